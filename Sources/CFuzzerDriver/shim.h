// libFuzzer's driver entry point, declared weak: with `-sanitize=fuzzer` libFuzzer defines it and
// `chorus-fuzz` runs the fuzzer; in a plain build it stays null and `chorus-fuzz` replays files.
#ifndef CFUZZER_DRIVER_SHIM_H
#define CFUZZER_DRIVER_SHIM_H
#include <stddef.h>
#include <stdint.h>

__attribute__((weak)) int LLVMFuzzerRunDriver(int *argc, char ***argv,
                                              int (*UserCb)(const uint8_t *Data, size_t Size));

static inline int cfuzz_has_driver(void) { return LLVMFuzzerRunDriver != 0; }

#endif
