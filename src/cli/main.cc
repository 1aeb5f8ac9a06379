// `plancache`: forwards the process to run_cli() (src/cli/cli.h).
#include <iostream>
#include <string>
#include <vector>

#include "cli/cli.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  const plancache::cli::CliIo io{std::cin, std::cout, std::cerr, plancache::cli::process_env()};
  const int code = plancache::cli::run_cli(args, io);
  std::cout.flush();
  return code;
}
