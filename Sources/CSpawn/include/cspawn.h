#ifndef UNISON_CSPAWN_H
#define UNISON_CSPAWN_H
#include <spawn.h>

/// posix_spawn_file_actions_addchdir_np (glibc 2.29+), which Swift's Glibc module does not
/// export because the header declares it only under _GNU_SOURCE.
int unison_spawn_file_actions_addchdir(posix_spawn_file_actions_t *actions, const char *path);

#endif
