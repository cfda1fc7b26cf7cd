// The cost of one call through the plugin ABI, in-process, with no network:
// create the real libmcpreg.so instance, then time call -> worker -> completion
// round trips of GetPluginInfo. Prints Google Benchmark's table.
#include <benchmark/benchmark.h>
#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>

#include "absl/synchronization/notification.h"
#include "mcpreg/plugin_abi.h"

namespace {

constexpr char kMethod[] = "/mcpreg.v1.McpRegistry/GetPluginInfo";

void Quiet(void*, int32_t, mcpreg_str) {}

void Done(void* ctx, const mcpreg_call_result*) {
  static_cast<absl::Notification*>(ctx)->Notify();
}

struct Plugin {
  const mcpreg_plugin_api* api = nullptr;
  mcpreg_instance* instance = nullptr;
  mcpreg_host_api host{};
};

Plugin& Loaded() {
  static Plugin* plugin = [] {
    auto* p = new Plugin;
    void* handle = dlopen(MCPREG_BENCH_PLUGIN_PATH, RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      std::fprintf(stderr, "dlopen: %s\n", dlerror());
      std::abort();
    }
    auto entry = reinterpret_cast<mcpreg_plugin_entry_fn>(
        dlsym(handle, MCPREG_PLUGIN_ENTRY_SYMBOL));
    p->api = entry()->api;
    p->host.struct_size = sizeof(p->host);
    p->host.abi_major = MCPREG_ABI_MAJOR;
    p->host.abi_minor = MCPREG_ABI_MINOR;
    p->host.log = &Quiet;
    char* error = nullptr;
    if (p->api->create(&p->host, {"{}", 2}, &p->instance, &error) != 0) {
      std::fprintf(stderr, "create: %s\n", error);
      std::abort();
    }
    return p;
  }();
  return *plugin;
}

void BM_GetPluginInfoThroughAbi(benchmark::State& state) {
  Plugin& p = Loaded();
  mcpreg_call_info info{};
  info.struct_size = sizeof(info);
  info.method = {kMethod, sizeof(kMethod) - 1};
  for (auto _ : state) {
    absl::Notification done;
    p.api->call(p.instance, &info, {nullptr, 0}, &Done, &done);
    done.WaitForNotification();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_GetPluginInfoThroughAbi)->UseRealTime()->ThreadRange(1, 4);

}  // namespace

BENCHMARK_MAIN();
