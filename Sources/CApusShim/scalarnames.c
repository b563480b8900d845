// Binary size (issue #21): the Swift stdlib's Unicode scalar name tables
// (Unicode.Scalar.Properties.name and nameAlias, 550 KB) are reachable from
// code the stdlib always links, so --gc-sections cannot drop them. apus never
// asks a scalar's name; `make build` links with
// --wrap=_swift_stdlib_getScalarName, which sends the one function reading
// them here, and the tables go. (Without that flag, as in `swift test`, this
// function is never called.)
#include <stdint.h>

intptr_t __wrap__swift_stdlib_getScalarName(uint32_t scalar, uint8_t *buffer, intptr_t capacity);

// No name: the length written is 0, so `name` is nil.
intptr_t __wrap__swift_stdlib_getScalarName(uint32_t scalar, uint8_t *buffer, intptr_t capacity) {
	(void)scalar;
	(void)buffer;
	(void)capacity;
	return 0;
}
