// autoglm: the command-line entry point. Each subcommand lives in its own cmd_*.cpp.
#include <cstdio>
#include <cstring>
#include <string>

#include "commands.h"

int main(int argc, char** argv) {
  return autoglm::cli::dispatch(argc, argv);
}
