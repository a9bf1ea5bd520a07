#include "cli/context.h"

int main(int argc, char** argv) {
  return reco::cli::run(argc, argv);
}
