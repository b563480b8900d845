/* Stage 0 of the `apus` executable: runs before the Swift runtime starts.
 * Only this executable links it (not the tests or the fuzzer). */
#include "apus_entry.h"
#include "apus_shim.h"

__attribute__((constructor(101))) static void apus_stage0(int argc, char **argv, char **envp)
{
    (void)envp;
    apus_seal_early(argc, argv);
}
