/* The histogram slot of a nanosecond value, shared by the kernel side and
 * the unit tests: slot k counts values in [2^k, 2^(k+1)), 0 goes to slot 0,
 * and the last slot takes everything longer. Plain C on __u32/__u64. */
#ifndef SB_LOG2_H
#define SB_LOG2_H

#include "sb_bpf.h"

/* floor(log2(v)) for v > 0; 0 for 0. Branch-free: the BPF ISA has no clz. */
static inline __attribute__((always_inline)) __u32 sb_log2(__u64 v)
{
	__u32 r, s;
	r = (__u32)(v > 0xffffffffULL) << 5;
	v >>= r;
	s = (__u32)(v > 0xffff) << 4;
	v >>= s;
	r |= s;
	s = (__u32)(v > 0xff) << 3;
	v >>= s;
	r |= s;
	s = (__u32)(v > 0xf) << 2;
	v >>= s;
	r |= s;
	s = (__u32)(v > 0x3) << 1;
	v >>= s;
	r |= s;
	return r | (__u32)(v >> 1);
}

static inline __attribute__((always_inline)) __u32 sb_hist_slot(__u64 ns)
{
	__u32 k = sb_log2(ns);
	return k < SB_HIST_SLOTS ? k : SB_HIST_SLOTS - 1;
}

#endif
