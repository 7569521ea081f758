/* CRC32C (Castagnoli), the checksum of the spool's records: iSCSI, ext4
 * and Kafka use it too, and x86 computes it in hardware (SSE4.2). */
#ifndef SB_CRC32C_H
#define SB_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* crc: 0 to start, or the result of the previous call to continue. */
uint32_t sb_crc32c(uint32_t crc, const void *data, size_t n);
/* The table path whatever the CPU has, so tests cover both. */
uint32_t sb_crc32c_sw(uint32_t crc, const void *data, size_t n);
/* The crc of A followed by B from crc(A), crc(B) and B's length, in
 * O(log nb): lets a scan check a record's checksum from prefix checksums
 * it already has, without reading the record again. */
uint32_t sb_crc32c_combine(uint32_t a, uint32_t b, uint64_t nb);

#endif
