// The one header over the system FFmpeg libraries. Swift cannot import function-like
// macros or compound-literal constants, so each one it needs has an inline twin here.
#ifndef SEEDPIPE_CFFMPEG_SHIM_H
#define SEEDPIPE_CFFMPEG_SHIM_H

#include <errno.h>
#include <stdio.h>
#include <stdarg.h>
#include <libavformat/avformat.h>
#include <libavcodec/avcodec.h>
#include <libavutil/avutil.h>
#include <libavutil/audio_fifo.h>
#include <libavutil/channel_layout.h>
#include <libavutil/error.h>
#include <libavutil/imgutils.h>
#include <libavutil/log.h>
#include <libavutil/opt.h>
#include <libavutil/samplefmt.h>
#include <libavutil/mathematics.h>
#include <libswscale/swscale.h>
#include <libswresample/swresample.h>
#include <libavfilter/avfilter.h>
#include <libavfilter/buffersrc.h>
#include <libavfilter/buffersink.h>

static inline int cff_averror(int posix_errno) { return AVERROR(posix_errno); }
static inline int cff_averror_eof(void) { return AVERROR_EOF; }
static inline int cff_averror_eagain(void) { return AVERROR(EAGAIN); }
static inline int cff_averror_invaliddata(void) { return AVERROR_INVALIDDATA; }
static inline int64_t cff_nopts_value(void) { return AV_NOPTS_VALUE; }
static inline AVRational cff_time_base_q(void) { return AV_TIME_BASE_Q; }
static inline int cff_error_buffer_size(void) { return AV_ERROR_MAX_STRING_SIZE; }

/// Formats one FFmpeg log call into `line` (always NUL-terminated); the va_list stays in C.
static inline int cff_format_log_line(void *avcl, int level, const char *fmt, va_list vl,
                                      char *line, int line_size, int *print_prefix) {
    return av_log_format_line2(avcl, level, fmt, vl, line, line_size, print_prefix);
}

/// AVFrame.data[i] and linesize[i] without tuple gymnastics on the Swift side.
static inline uint8_t *cff_frame_data(const AVFrame *frame, int plane) { return frame->data[plane]; }
static inline int cff_frame_linesize(const AVFrame *frame, int plane) { return frame->linesize[plane]; }
static inline uint8_t **cff_frame_data_array(AVFrame *frame) { return frame->data; }
static inline int *cff_frame_linesize_array(AVFrame *frame) { return frame->linesize; }
static inline uint8_t **cff_frame_extended_data(AVFrame *frame) { return frame->extended_data; }

#endif
