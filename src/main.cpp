#include "cli/run.h"

int main(int argc, char** argv) {
  return reco::cli::run(argc, argv);
}
