// davi_run: executes the JSON experiment files in experiments/. See README.md for the format.
#include "davi/runner/runner.hpp"

int main(int argc, char** argv) { return davi::runner::main(argc, argv); }
