// The only symbol libmcpreg.so exports (see libmcpreg.map).
#include "build_info.h"
#include "mcpreg/plugin_abi.h"
#include "plugin/sdk/abi_glue.h"
#include "plugin/src/registry_instance.h"

extern "C" MCPREG_PLUGIN_EXPORT const mcpreg_plugin_descriptor*
mcpreg_plugin_entry(void) {
  static const mcpreg_plugin_descriptor* const descriptor =
      mcpreg::sdk::MakePluginDescriptor(mcpreg::kPluginName,
                                        mcpreg::kPluginVersion,
                                        &mcpreg::RegistryInstance::Create);
  return descriptor;
}
