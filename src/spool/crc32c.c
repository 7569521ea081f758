/* CRC32C: the SSE4.2 crc32 instruction where the CPU has it, else a
 * slicing-by-8 table walk (8 bytes per step). Debian 12 packages no C
 * library for it (zlib's crc32 is the IEEE polynomial). */
#include "crc32c.h"

#include <pthread.h>
#include <string.h>

#define POLY 0x82f63b78u /* reflected Castagnoli polynomial */

static uint32_t table[8][256];
static uint32_t x2n[32]; /* x^(2^n) modulo the polynomial */
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int have_hw;

/* a * b modulo the polynomial (reflected: x^0 is the top bit) */
static uint32_t multmodp(uint32_t a, uint32_t b)
{
	uint32_t m = 1u << 31, p = 0;
	for (;;) {
		if (a & m) {
			p ^= b;
			if (!(a & (m - 1)))
				break;
		}
		m >>= 1;
		b = b & 1 ? (b >> 1) ^ POLY : b >> 1;
	}
	return p;
}

static void init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ POLY : c >> 1;
		table[0][i] = c;
	}
	for (uint32_t i = 0; i < 256; i++)
		for (int t = 1; t < 8; t++)
			table[t][i] = (table[t - 1][i] >> 8) ^ table[0][table[t - 1][i] & 0xff];
	uint32_t p = 1u << 30; /* x^1 */
	x2n[0] = p;
	for (int n = 1; n < 32; n++)
		x2n[n] = p = multmodp(p, p);
#if defined(__x86_64__)
	__builtin_cpu_init();
	have_hw = __builtin_cpu_supports("sse4.2");
#endif
}

static uint32_t sw(uint32_t c, const unsigned char *p, size_t n)
{
	while (n && ((uintptr_t)p & 7)) {
		c = table[0][(c ^ *p++) & 0xff] ^ (c >> 8);
		n--;
	}
	while (n >= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		w ^= c; /* little-endian: the low 4 bytes take the running crc */
		c = table[7][w & 0xff] ^ table[6][(w >> 8) & 0xff] ^ table[5][(w >> 16) & 0xff] ^
		    table[4][(w >> 24) & 0xff] ^ table[3][(w >> 32) & 0xff] ^
		    table[2][(w >> 40) & 0xff] ^ table[1][(w >> 48) & 0xff] ^ table[0][w >> 56];
		p += 8;
		n -= 8;
	}
	while (n--)
		c = table[0][(c ^ *p++) & 0xff] ^ (c >> 8);
	return c;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t hw(uint32_t c, const unsigned char *p, size_t n)
{
	uint64_t c64 = c;
	while (n && ((uintptr_t)p & 7)) {
		c64 = __builtin_ia32_crc32qi((uint32_t)c64, *p++);
		n--;
	}
	while (n >= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		c64 = __builtin_ia32_crc32di(c64, w);
		p += 8;
		n -= 8;
	}
	while (n--)
		c64 = __builtin_ia32_crc32qi((uint32_t)c64, *p++);
	return (uint32_t)c64;
}
#endif

uint32_t sb_crc32c(uint32_t crc, const void *data, size_t n)
{
	pthread_once(&once, init);
	uint32_t c = ~crc;
#if defined(__x86_64__)
	if (have_hw)
		return ~hw(c, data, n);
#endif
	return ~sw(c, data, n);
}

uint32_t sb_crc32c_sw(uint32_t crc, const void *data, size_t n)
{
	pthread_once(&once, init);
	return ~sw(~crc, data, n);
}

uint32_t sb_crc32c_combine(uint32_t a, uint32_t b, uint64_t nb)
{
	pthread_once(&once, init);
	/* a times x^(8 nb): the bits of nb pick powers x^(8 * 2^k) */
	uint32_t p = 1u << 31;
	for (unsigned k = 3; nb; nb >>= 1, k++)
		if (nb & 1)
			p = multmodp(x2n[k & 31], p);
	return multmodp(p, a) ^ b;
}
