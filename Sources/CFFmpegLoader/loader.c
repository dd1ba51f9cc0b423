// FFmpeg's libraries, loaded on the first call into them instead of at process start.
//
// Debian's libavformat/libavcodec pull in about 130 shared libraries (x264, x265, vpx, dav1d,
// gnutls, librsvg, glib, ...), most of them built with -z now; mapping and relocating them
// costs ~35-40 ms, which every command paid, even `seedpipe --version`. Here each FFmpeg function
// Media calls is a tiny trampoline: `jmp *table[i]`. The first call through any of them dlopens
// the libraries once (pthread_once), fills the whole table with dlsym, and continues.
//
// Adding an FFmpeg function to Media: add it to CFF_SYMBOLS (the link fails until you do).
// libavfilter (and the ~20 libraries only it needs) is a group of its own, CFF_FILTER_SYMBOLS,
// loaded on the first call into it, so only the commands that build a filter graph pay for it.
#if defined(__linux__) && (defined(__x86_64__) || defined(__aarch64__))
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <libavformat/version_major.h>
#include <libavcodec/version_major.h>
#include <libavutil/version.h>
#include <libswscale/version_major.h>
#include <libswresample/version_major.h>
#include <libavfilter/version_major.h>
#include "cffmpeg_loader.h"

#define CFF_STR2(x) #x
#define CFF_STR(x) CFF_STR2(x)

#define CFF_SYMBOLS(X) \
    X(0, av_audio_fifo_alloc) \
    X(1, av_audio_fifo_free) \
    X(2, av_audio_fifo_read) \
    X(3, av_audio_fifo_size) \
    X(4, av_audio_fifo_write) \
    X(5, av_channel_layout_channel_from_index) \
    X(6, av_channel_layout_copy) \
    X(7, av_channel_layout_default) \
    X(8, av_channel_layout_describe) \
    X(9, av_channel_layout_uninit) \
    X(10, av_dict_free) \
    X(11, av_dict_set) \
    X(12, av_find_best_stream) \
    X(13, av_frame_alloc) \
    X(14, av_frame_free) \
    X(15, av_frame_get_buffer) \
    X(16, av_frame_make_writable) \
    X(17, av_frame_move_ref) \
    X(18, av_frame_unref) \
    X(19, av_get_pix_fmt_name) \
    X(20, av_interleaved_write_frame) \
    X(21, av_log_format_line2) \
    X(22, av_log_get_level) \
    X(23, av_log_set_callback) \
    X(24, av_log_set_level) \
    X(25, av_packet_alloc) \
    X(26, av_packet_clone) \
    X(27, av_packet_free) \
    X(28, av_packet_rescale_ts) \
    X(29, av_packet_unref) \
    X(30, av_read_frame) \
    X(31, av_rescale_q) \
    X(32, av_samples_set_silence) \
    X(33, av_seek_frame) \
    X(34, av_strerror) \
    X(35, av_write_trailer) \
    X(36, avcodec_alloc_context3) \
    X(37, avcodec_descriptor_get) \
    X(38, avcodec_find_decoder) \
    X(39, avcodec_find_encoder) \
    X(40, avcodec_find_encoder_by_name) \
    X(41, avcodec_flush_buffers) \
    X(42, avcodec_free_context) \
    X(43, avcodec_get_name) \
    X(44, avcodec_open2) \
    X(45, avcodec_parameters_copy) \
    X(46, avcodec_parameters_from_context) \
    X(47, avcodec_parameters_to_context) \
    X(48, avcodec_profile_name) \
    X(49, avcodec_receive_frame) \
    X(50, avcodec_receive_packet) \
    X(51, avcodec_send_frame) \
    X(52, avcodec_send_packet) \
    X(53, avformat_alloc_output_context2) \
    X(54, avformat_close_input) \
    X(55, avformat_find_stream_info) \
    X(56, avformat_free_context) \
    X(57, avformat_new_stream) \
    X(58, avformat_open_input) \
    X(59, avformat_seek_file) \
    X(60, avformat_write_header) \
    X(61, avio_closep) \
    X(62, avio_flush) \
    X(63, avio_open) \
    X(64, swr_alloc_set_opts2) \
    X(65, swr_convert) \
    X(66, swr_free) \
    X(67, swr_get_out_samples) \
    X(68, swr_init) \
    X(69, sws_freeContext) \
    X(70, sws_getContext) \
    X(71, sws_scale) \
    X(72, av_strdup) \
    X(73, av_channel_layout_compare) \
    X(74, av_stream_get_side_data) \
    X(75, av_stream_new_side_data) \
    X(76, av_frame_get_side_data) \
    X(77, av_pix_fmt_desc_get) \
    X(78, av_new_packet)

/// libavfilter's functions: their own table, library and once.
#define CFF_FILTER_SYMBOLS(X) \
    X(0, avfilter_get_by_name) \
    X(1, avfilter_graph_alloc) \
    X(2, avfilter_graph_config) \
    X(3, avfilter_graph_create_filter) \
    X(4, avfilter_graph_free) \
    X(5, avfilter_graph_parse_ptr) \
    X(6, avfilter_inout_alloc) \
    X(7, avfilter_inout_free) \
    X(8, av_buffersrc_add_frame_flags) \
    X(9, av_buffersink_get_frame)

#define CFF_COUNT(i, name) +1
enum { cff_symbol_count = 0 CFF_SYMBOLS(CFF_COUNT) };

__attribute__((visibility("hidden"))) void *cff_table[cff_symbol_count];

static const char *const cff_names[cff_symbol_count] = {
#define CFF_NAME(i, name) #name,
    CFF_SYMBOLS(CFF_NAME)
};

static const char *const cff_libraries[] = {
    "libavutil.so." CFF_STR(LIBAVUTIL_VERSION_MAJOR),
    "libswresample.so." CFF_STR(LIBSWRESAMPLE_VERSION_MAJOR),
    "libswscale.so." CFF_STR(LIBSWSCALE_VERSION_MAJOR),
    "libavcodec.so." CFF_STR(LIBAVCODEC_VERSION_MAJOR),
    "libavformat.so." CFF_STR(LIBAVFORMAT_VERSION_MAJOR),
};
enum { cff_library_count = sizeof(cff_libraries) / sizeof(cff_libraries[0]) };

static pthread_once_t cff_once = PTHREAD_ONCE_INIT;
static int cff_status = -1;
/// Why loading failed (the library and dlerror's text), for Media's error; empty on success.
static char cff_error[512];

/// The libraries from `$SEEDPIPE_FFMPEG_DIR` when it is set (a build of FFmpeg of one's own),
/// else wherever the dynamic loader finds them.
static void *cff_open(const char *library) {
    const char *folder = getenv("SEEDPIPE_FFMPEG_DIR");
    if (!folder || !*folder) return dlopen(library, RTLD_NOW | RTLD_LOCAL);
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", folder, library);
    return dlopen(path, RTLD_NOW | RTLD_LOCAL);
}

static void cff_load_once(void) {
    void *handles[cff_library_count];
    for (int l = 0; l < cff_library_count; l++) {
        handles[l] = cff_open(cff_libraries[l]);
        if (!handles[l]) {
            const char *reason = dlerror();
            snprintf(cff_error, sizeof cff_error, "%s: %s", cff_libraries[l], reason ? reason : "cannot be loaded");
            return;
        }
    }
    void *found[cff_symbol_count];
    for (int i = 0; i < cff_symbol_count; i++) {
        found[i] = NULL;
        for (int l = cff_library_count - 1; l >= 0 && !found[i]; l--) found[i] = dlsym(handles[l], cff_names[i]);
        if (!found[i]) {
            snprintf(cff_error, sizeof cff_error, "FFmpeg's libraries have no %s (a version other than %s)", cff_names[i],
                     cff_libraries[cff_library_count - 1]);
            return;
        }
    }
    for (int i = 0; i < cff_symbol_count; i++) __atomic_store_n(&cff_table[i], found[i], __ATOMIC_RELEASE);
    cff_status = 0;
}

int cff_load_ffmpeg(void) {
    pthread_once(&cff_once, cff_load_once);
    return cff_status;
}

const char *cff_load_error(void) {
    return cff_error;
}

enum { cff_filter_symbol_count = 0 CFF_FILTER_SYMBOLS(CFF_COUNT) };
__attribute__((visibility("hidden"))) void *cff_filter_table[cff_filter_symbol_count];
static const char *const cff_filter_names[cff_filter_symbol_count] = {
    CFF_FILTER_SYMBOLS(CFF_NAME)
};
static pthread_once_t cff_filter_once = PTHREAD_ONCE_INIT;
static int cff_filter_status = -1;

static void cff_filter_load_once(void) {
    if (cff_load_ffmpeg() != 0) return;
    const char *library = "libavfilter.so." CFF_STR(LIBAVFILTER_VERSION_MAJOR);
    void *handle = cff_open(library);
    if (!handle) {
        fprintf(stderr, "seedpipe: cannot load FFmpeg's filters: %s\n", dlerror());
        return;
    }
    void *found[cff_filter_symbol_count];
    for (int i = 0; i < cff_filter_symbol_count; i++) {
        found[i] = dlsym(handle, cff_filter_names[i]);
        if (!found[i]) {
            fprintf(stderr, "seedpipe: FFmpeg's libavfilter has no %s\n", cff_filter_names[i]);
            return;
        }
    }
    for (int i = 0; i < cff_filter_symbol_count; i++) __atomic_store_n(&cff_filter_table[i], found[i], __ATOMIC_RELEASE);
    cff_filter_status = 0;
}

int cff_load_ffmpeg_filters(void) {
    pthread_once(&cff_filter_once, cff_filter_load_once);
    return cff_filter_status;
}

/// The trampolines' slow path (argument registers preserved by the assembly around it).
/// Media checks `cff_load_ffmpeg()` at every entry point and throws a MediaError
/// (`librariesUnavailable`); a call that still got here without the libraries would be a bug in
/// Media, and ends the process with a clear line rather than jumping to a null address.
__attribute__((visibility("hidden"), used)) void cff_resolve(void) {
    if (cff_load_ffmpeg() != 0) {
        fputs("seedpipe: FFmpeg's libraries are needed for this (Debian: apt-get install libavformat59 libavcodec59 "
              "libswscale6 libswresample4)\n", stderr);
        fflush(stderr);
        _exit(2);
    }
}

__attribute__((visibility("hidden"), used)) void cff_filter_resolve(void) {
    if (cff_load_ffmpeg_filters() != 0) {
        fputs("seedpipe: FFmpeg's libavfilter is needed for this (Debian: apt-get install libavfilter8)\n", stderr);
        fflush(stderr);
        _exit(2);
    }
}

#if defined(__x86_64__)
// cff_slow: entered by `call` from a trampoline, so %rsp is 16-byte aligned here. Saves the
// integer and vector argument registers, resolves, restores, returns to the trampoline.
#define CFF_SLOW(slow, resolve) __asm__( \
    ".text\n" \
    ".p2align 4\n" \
    ".type " #slow ",@function\n" \
    #slow ":\n" \
    "  pushq %rdi\n pushq %rsi\n pushq %rdx\n pushq %rcx\n pushq %r8\n pushq %r9\n pushq %rax\n" \
    "  subq $136, %rsp\n" \
    "  movdqu %xmm0, 0(%rsp)\n movdqu %xmm1, 16(%rsp)\n movdqu %xmm2, 32(%rsp)\n movdqu %xmm3, 48(%rsp)\n" \
    "  movdqu %xmm4, 64(%rsp)\n movdqu %xmm5, 80(%rsp)\n movdqu %xmm6, 96(%rsp)\n movdqu %xmm7, 112(%rsp)\n" \
    "  call " #resolve "\n" \
    "  movdqu 0(%rsp), %xmm0\n movdqu 16(%rsp), %xmm1\n movdqu 32(%rsp), %xmm2\n movdqu 48(%rsp), %xmm3\n" \
    "  movdqu 64(%rsp), %xmm4\n movdqu 80(%rsp), %xmm5\n movdqu 96(%rsp), %xmm6\n movdqu 112(%rsp), %xmm7\n" \
    "  addq $136, %rsp\n" \
    "  popq %rax\n popq %r9\n popq %r8\n popq %rcx\n popq %rdx\n popq %rsi\n popq %rdi\n" \
    "  ret\n" \
    ".size " #slow ", .-" #slow "\n");
#define CFF_TRAMPOLINE_IN(table, slow, i, name) __asm__( \
    ".text\n .p2align 4\n .globl " #name "\n .type " #name ",@function\n" \
    #name ":\n" \
    "0: movq " #table "+8*" #i "(%rip), %r11\n" \
    "  testq %r11, %r11\n" \
    "  jz 1f\n" \
    "  jmpq *%r11\n" \
    "1: call " #slow "\n" \
    "  jmp 0b\n" \
    ".size " #name ", .-" #name "\n");
#else /* __aarch64__ */
#define CFF_SLOW(slow, resolve) __asm__( \
    ".text\n" \
    ".p2align 4\n" \
    ".type " #slow ",%function\n" \
    #slow ":\n" \
    "  stp x29, x30, [sp, #-224]!\n mov x29, sp\n" \
    "  stp x0, x1, [sp, #16]\n stp x2, x3, [sp, #32]\n stp x4, x5, [sp, #48]\n stp x6, x7, [sp, #64]\n str x8, [sp, #80]\n" \
    "  stp q0, q1, [sp, #96]\n stp q2, q3, [sp, #128]\n stp q4, q5, [sp, #160]\n stp q6, q7, [sp, #192]\n" \
    "  bl " #resolve "\n" \
    "  ldp q0, q1, [sp, #96]\n ldp q2, q3, [sp, #128]\n ldp q4, q5, [sp, #160]\n ldp q6, q7, [sp, #192]\n" \
    "  ldp x0, x1, [sp, #16]\n ldp x2, x3, [sp, #32]\n ldp x4, x5, [sp, #48]\n ldp x6, x7, [sp, #64]\n ldr x8, [sp, #80]\n" \
    "  ldp x29, x30, [sp], #224\n" \
    "  ret\n" \
    ".size " #slow ", .-" #slow "\n");
#define CFF_TRAMPOLINE_IN(table, slow, i, name) __asm__( \
    ".text\n .p2align 4\n .globl " #name "\n .type " #name ",%function\n" \
    #name ":\n" \
    "0: adrp x16, " #table "+8*" #i "\n" \
    "  add x16, x16, :lo12:" #table "+8*" #i "\n" \
    "  ldar x17, [x16]\n" \
    "  cbz x17, 1f\n" \
    "  br x17\n" \
    "1: stp x29, x30, [sp, #-16]!\n" \
    "  bl " #slow "\n" \
    "  ldp x29, x30, [sp], #16\n" \
    "  b 0b\n" \
    ".size " #name ", .-" #name "\n");
#endif
CFF_SLOW(cff_slow, cff_resolve)
CFF_SLOW(cff_filter_slow, cff_filter_resolve)
#define CFF_TRAMPOLINE(i, name) CFF_TRAMPOLINE_IN(cff_table, cff_slow, i, name)
#define CFF_FILTER_TRAMPOLINE(i, name) CFF_TRAMPOLINE_IN(cff_filter_table, cff_filter_slow, i, name)
CFF_SYMBOLS(CFF_TRAMPOLINE)
CFF_FILTER_SYMBOLS(CFF_FILTER_TRAMPOLINE)

#else
// Other platforms link FFmpeg directly (see Package.swift).
#include "cffmpeg_loader.h"
int cff_load_ffmpeg(void) { return 0; }
int cff_load_ffmpeg_filters(void) { return 0; }
const char *cff_load_error(void) { return ""; }
#endif
