#include "storage/pg/health_probe.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "storage/pg/migrations.h"

namespace mcpreg::storage::pg {
namespace {

// libpq's message on one line, without its trailing newline.
std::string ErrorText(const char* message) {
  return absl::StrReplaceAll(
      absl::StripAsciiWhitespace(message == nullptr ? "" : message),
      {{"\n", " "}, {"\t", ""}});
}

}  // namespace

struct HealthProbe::Answer {
  enum Outcome { kAnswered, kStopped, kNoAnswer, kBroken };
  Outcome outcome = kAnswered;
  std::string error;  // the server's error, or libpq's when broken
  std::string value;  // first column of the first row, if any
};

absl::StatusOr<std::unique_ptr<HealthProbe>> HealthProbe::Start(
    HealthProbeOptions options) {
  const int stop_fd = eventfd(0, EFD_CLOEXEC);
  if (stop_fd < 0) {
    return absl::ResourceExhaustedError(
        absl::StrCat("health probe: eventfd: ", std::strerror(errno)));
  }
  return std::unique_ptr<HealthProbe>(
      new HealthProbe(std::move(options), stop_fd));
}

HealthProbe::HealthProbe(HealthProbeOptions options, int stop_fd)
    : options_(std::move(options)), stop_fd_(stop_fd) {
  thread_ = std::thread([this] { Run(); });
}

HealthProbe::~HealthProbe() {
  const uint64_t one = 1;
  (void)!write(stop_fd_, &one, sizeof(one));
  thread_.join();
  close(stop_fd_);
}

bool HealthProbe::WaitForFirstVerdict(absl::Duration timeout) const {
  return first_verdict_.WaitForNotificationWithTimeout(timeout);
}

void HealthProbe::Run() {
  PGconn* conn = nullptr;
  const std::string late = absl::StrCat(
      "no answer within ", absl::FormatDuration(options_.answer_timeout));
  absl::Time next = absl::Now();
  while (WaitFor(-1, 0, next) != Wake::kStop) {
    next = absl::Now() + options_.interval;
    if (conn == nullptr) {
      absl::StatusOr<PGconn*> made = Connect();
      if (made.status().code() == absl::StatusCode::kCancelled) break;
      if (!made.ok()) {
        Publish(false, std::string(made.status().message()));
        continue;  // the next attempt starts `interval` after this one did
      }
      conn = *made;
    }
    const absl::Time sent = absl::Now();
    Answer a = Ask(conn, kSchemaVersionQuery, sent + options_.answer_timeout,
                   sent + options_.stall_timeout,
                   [this, &late] { Publish(false, late); });
    if (a.outcome == Answer::kStopped) break;
    int version = 0;
    if (a.outcome == Answer::kBroken) {
      Publish(false, absl::StrCat("connection lost: ", a.error));
    } else if (a.outcome == Answer::kNoAnswer) {
      Publish(false, absl::StrCat("no answer within ",
                                  absl::FormatDuration(options_.stall_timeout),
                                  "; reconnecting"));
    } else if (!a.error.empty()) {
      Publish(false, absl::StrCat("probe query failed: ", a.error));
    } else if (!absl::SimpleAtoi(a.value, &version) ||
               version != options_.expected_schema_version) {
      Publish(false, absl::StrCat("the database schema is at version ", a.value,
                                  ", this plugin is built for ",
                                  options_.expected_schema_version));
    } else {
      Publish(true, absl::StrCat("the database answers, schema at version ",
                                 version));
    }
    if (a.outcome != Answer::kAnswered || PQstatus(conn) == CONNECTION_BAD) {
      PQfinish(conn);  // nonblocking: never waits on a frozen server
      conn = nullptr;
    }
  }
  if (conn != nullptr) PQfinish(conn);
}

absl::StatusOr<PGconn*> HealthProbe::Connect() {
  const absl::Time deadline = absl::Now() + options_.connect_timeout;
  // The conninfo is expanded in place of "dbname"; the name that follows
  // overrides any the operator gave, so the probe is always recognizable.
  // (A host name is resolved here, synchronously: a hanging resolver delays
  // the return to SERVING, never the news of a failure.)
  const char* keywords[] = {"dbname", "application_name", nullptr};
  const char* values[] = {options_.conninfo.c_str(),
                          options_.application_name.c_str(), nullptr};
  PGconn* conn = PQconnectStartParams(keywords, values, /*expand_dbname=*/1);
  if (conn == nullptr) return absl::ResourceExhaustedError("out of memory");
  auto fail = [conn](absl::Status status) {
    PQfinish(conn);
    return status;
  };
  PostgresPollingStatusType polled = PQstatus(conn) == CONNECTION_BAD
                                         ? PGRES_POLLING_FAILED
                                         : PGRES_POLLING_WRITING;
  while (polled != PGRES_POLLING_OK) {
    if (polled == PGRES_POLLING_FAILED) {
      return fail(absl::UnavailableError(
          absl::StrCat("cannot connect: ", ErrorText(PQerrorMessage(conn)))));
    }
    switch (WaitFor(PQsocket(conn),
                    polled == PGRES_POLLING_READING ? POLLIN : POLLOUT,
                    deadline)) {
      case Wake::kStop:
        return fail(absl::CancelledError());
      case Wake::kTimeout:
        return fail(absl::UnavailableError(
            absl::StrCat("no connection within ",
                         absl::FormatDuration(options_.connect_timeout))));
      case Wake::kReady:
        break;
    }
    polled = PQconnectPoll(conn);
  }
  // Never block in libpq: a send to a frozen server must not stall the
  // thread, nor must closing the connection.
  if (PQsetnonblocking(conn, 1) != 0) {
    return fail(absl::UnavailableError(ErrorText(PQerrorMessage(conn))));
  }
  // Read-only by construction, and a probe blocked on a lock is ended by
  // the server before the stall makes us drop the connection.
  const std::string settings = absl::StrCat(
      "SET default_transaction_read_only = on; SET statement_timeout = ",
      absl::ToInt64Milliseconds(options_.stall_timeout -
                                options_.answer_timeout));
  Answer a = Ask(conn, settings.c_str(), deadline, deadline, nullptr);
  switch (a.outcome) {
    case Answer::kStopped:
      return fail(absl::CancelledError());
    case Answer::kNoAnswer:
      return fail(absl::UnavailableError(
          absl::StrCat("no connection within ",
                       absl::FormatDuration(options_.connect_timeout))));
    case Answer::kBroken:
      return fail(
          absl::UnavailableError(absl::StrCat("connection lost: ", a.error)));
    case Answer::kAnswered:
      break;
  }
  if (!a.error.empty()) {
    return fail(absl::UnavailableError(
        absl::StrCat("session settings refused: ", a.error)));
  }
  return conn;
}

HealthProbe::Answer HealthProbe::Ask(PGconn* conn, const char* sql,
                                     absl::Time late, absl::Time give_up,
                                     const std::function<void()>& on_late) {
  Answer a;
  auto broken = [&a, conn] {
    a.outcome = Answer::kBroken;
    a.error = ErrorText(PQerrorMessage(conn));
    return a;
  };
  if (PQsendQuery(conn, sql) == 0) return broken();
  bool is_late = false;
  for (;;) {
    // Nonblocking, so part of the query may still wait to be sent.
    const int unsent = PQflush(conn);
    if (unsent < 0) return broken();
    const short events = unsent != 0 ? POLLIN | POLLOUT : POLLIN;
    const Wake wake = WaitFor(PQsocket(conn), events, is_late ? give_up : late);
    if (wake == Wake::kStop) {
      a.outcome = Answer::kStopped;
      return a;
    }
    if (wake == Wake::kTimeout) {
      if (is_late || late >= give_up) {
        a.outcome = Answer::kNoAnswer;
        return a;
      }
      is_late = true;
      if (on_late) on_late();
      continue;
    }
    if (PQconsumeInput(conn) == 0) return broken();
    while (PQisBusy(conn) == 0) {
      PGresult* result = PQgetResult(conn);
      if (result == nullptr) return a;  // the whole answer is in
      const ExecStatusType status = PQresultStatus(result);
      if (status == PGRES_TUPLES_OK && a.value.empty() &&
          PQntuples(result) > 0 && PQnfields(result) > 0) {
        a.value = PQgetvalue(result, 0, 0);
      } else if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK &&
                 a.error.empty()) {
        a.error = ErrorText(PQresultErrorMessage(result));
      }
      PQclear(result);
    }
  }
}

HealthProbe::Wake HealthProbe::WaitFor(int fd, short events,
                                       absl::Time deadline) const {
  pollfd fds[2] = {{stop_fd_, POLLIN, 0}, {fd, events, 0}};
  const nfds_t count = fd >= 0 ? 2 : 1;
  for (;;) {
    // Rounded up, so that a wake-up is never before the deadline; at least
    // one poll, so that a past deadline still sees the stop signal.
    const absl::Duration left =
        std::max(deadline - absl::Now(), absl::ZeroDuration());
    const int ms = static_cast<int>(std::min<int64_t>(
        absl::ToInt64Milliseconds(absl::Ceil(left, absl::Milliseconds(1))),
        1 << 30));
    const int rc = poll(fds, count, ms);
    if (rc < 0 && errno != EINTR) return Wake::kTimeout;
    if (rc > 0 && fds[0].revents != 0) return Wake::kStop;
    if (rc > 0 && count == 2 && fds[1].revents != 0) return Wake::kReady;
    if (absl::Now() >= deadline) return Wake::kTimeout;
  }
}

void HealthProbe::Publish(bool serving, const std::string& reason) {
  const int state = serving ? kServing : kNotServing;
  const int before = state_.exchange(state);
  if (!first_verdict_.HasBeenNotified()) first_verdict_.Notify();
  if (before != state && options_.on_change)
    options_.on_change(serving, reason);
}

}  // namespace mcpreg::storage::pg
