//! Fuzzing (issue 12, part 4): every failure the fuzzer found stays as a
//! named test in `fuzz/regressions.rs`.

mod regressions;
