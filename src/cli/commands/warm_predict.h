// `plancache warm --predict [--dry-run] [--namespace NS]`: one predictor
// pass on the server (POST /v1/predict; docs/cli.md, "warm"), printed as a
// table of what it would compute (with --dry-run) or started, and why.
//
// Thread-safety: a plain function of the calling thread.
#pragma once

#include <string>

#include "cli/command_support.h"

namespace plancache::cli {

// Asks the server for one pass; prints the table and a summary line on
// io.out. Returns kExitOk, or kExitFailure for a server error (printed as
// every command prints one) or an unreachable server.
int run_warm_predict(const Client& client, bool dry_run, const std::string& ns, const CliIo& io);

}  // namespace plancache::cli
