import os

import lit.formats

config.name = "KxPlugin"
config.test_format = lit.formats.ShTest(False)
config.suffixes = [".mlir"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(os.path.dirname(config.kx_plugin), "test")
config.environment["PATH"] = os.pathsep.join(
    [config.kestrel_tools_dir, config.llvm_tools_dir, config.environment.get("PATH", "")])
plugin = config.kx_plugin
config.substitutions.append(
    ("%kx-opt", f"kestrel-opt --load-dialect-plugin={plugin} --load-pass-plugin={plugin}"))
config.substitutions.append(
    ("%kx-kestrelc", f"kestrelc --load-dialect-plugin={plugin} --load-pass-plugin={plugin}"))
