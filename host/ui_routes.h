// The web UI on the REST port: static files from memory (ui_assets.h) at
// /ui/, each with a Content-Security-Policy that allows only our own
// scripts and styles (no inline script, no eval), nosniff, no framing, and
// an ETag so browsers revalidate instead of running a stale UI. The UI
// talks to the registry through the same REST API as everyone else.
#ifndef MCPREG_HOST_UI_ROUTES_H_
#define MCPREG_HOST_UI_ROUTES_H_

namespace httplib {
class Server;
}

namespace mcpreg::host {

// GET and HEAD of /ui/ (index.html), /ui/<file>, and / and /ui, which
// redirect to /ui/. Unknown files under /ui/ are 404.
void AddUiRoutes(httplib::Server& server);

}  // namespace mcpreg::host

#endif  // MCPREG_HOST_UI_ROUTES_H_
