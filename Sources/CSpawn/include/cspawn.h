#ifndef UNISON_CSPAWN_H
#define UNISON_CSPAWN_H

/// posix_spawn_file_actions_addchdir_np (glibc 2.29+), which Swift's Glibc module does not
/// export because <spawn.h> declares it only under _GNU_SOURCE. `actions` is a
/// posix_spawn_file_actions_t *; the header includes no system header, so the libc types stay
/// owned by the Glibc module.
int unison_spawn_file_actions_addchdir(void *actions, const char *path);

/// posix_spawn_file_actions_addclosefrom_np (glibc 2.34+, also _GNU_SOURCE only): the child
/// closes every descriptor from `from` up.
int unison_spawn_file_actions_addclosefrom(void *actions, int from);

#endif
