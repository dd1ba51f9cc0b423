#ifndef SEEDPIPE_CFFMPEG_LOADER_H
#define SEEDPIPE_CFFMPEG_LOADER_H
/// Loads FFmpeg's libraries now (they load on the first FFmpeg call otherwise).
/// Returns 0 on success, -1 when they cannot be loaded (`cff_load_error` says why).
int cff_load_ffmpeg(void);
/// Why `cff_load_ffmpeg` failed: the library and the loader's reason (empty if it did not fail).
const char *cff_load_error(void);
/// Loads libavfilter now (after the libraries above); 0 on success, -1 with a message otherwise.
int cff_load_ffmpeg_filters(void);
#endif
