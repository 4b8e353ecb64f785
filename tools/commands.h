// Subcommands of the autoglm CLI. Each returns the process exit code: 0 ok, 1 error
// (a one-line message on stderr), 2 bad usage.
#pragma once

namespace autoglm::cli {

int dispatch(int argc, char** argv);
int cmd_run(int argc, char** argv);
int cmd_inspect(int argc, char** argv);
int cmd_tokenize(int argc, char** argv);
int cmd_bench(int argc, char** argv);
int cmd_gen_random(int argc, char** argv);
int cmd_serve(int argc, char** argv);
int cmd_chat_template(int argc, char** argv);
int cmd_perplexity(int argc, char** argv);

}  // namespace autoglm::cli
