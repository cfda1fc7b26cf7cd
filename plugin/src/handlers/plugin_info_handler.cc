#include "plugin/src/handlers/plugin_info_handler.h"

#include "build_info.h"
#include "mcpreg/plugin_abi.h"

namespace mcpreg {

v1::PluginInfo BuildPluginInfo(const std::vector<std::string>& methods) {
  v1::PluginInfo info;
  info.set_name(kPluginName);
  info.set_version(kPluginVersion);
  info.set_abi_major(MCPREG_ABI_MAJOR);
  info.set_abi_minor(MCPREG_ABI_MINOR);
  info.set_build_type(kBuildType);
  info.set_compiler(kCompiler);
  info.set_git_revision(kGitRevision);
  for (const std::string& m : methods) info.add_methods(m);
  return info;
}

}  // namespace mcpreg
