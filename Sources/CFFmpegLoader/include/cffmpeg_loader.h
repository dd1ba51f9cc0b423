#ifndef SEEDPIPE_CFFMPEG_LOADER_H
#define SEEDPIPE_CFFMPEG_LOADER_H
/// Loads FFmpeg's libraries now (they load on the first FFmpeg call otherwise).
/// Returns 0 on success, -1 (with a message on standard error) when they cannot be loaded.
int cff_load_ffmpeg(void);
/// Loads libavfilter now (after the libraries above); 0 on success, -1 with a message otherwise.
int cff_load_ffmpeg_filters(void);
#endif
