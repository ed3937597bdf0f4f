/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The Vireo Authors
 */

/*
 * The body of a vector unit (vireo_rxtx_vec_<isa>.c, which names its
 * instruction set in VIREO_VEC_NAME and is built for it): the Rx and Tx
 * bursts of vireo_rx.c and vireo_tx.c over the ring core's vector batch
 * primitives (vring_vec.h), and the Rx mbuf init four at a time.
 */

#ifndef VIREO_RXTX_VEC_H
#define VIREO_RXTX_VEC_H

#ifndef VIREO_VEC_NAME
#error "a vector unit names its instruction set in VIREO_VEC_NAME"
#endif

#include <rte_mbuf.h>

#include "vring_vec.h"
#include "vireo_rxtx.h"

/* The mbuf fields the Rx init writes, where the stores below put them. */
_Static_assert(offsetof(struct rte_mbuf, ol_flags) ==
	       offsetof(struct rte_mbuf, rearm_data) + 8,
	       "rearm word then ol_flags: one 16-byte store");
_Static_assert(offsetof(struct rte_mbuf, pkt_len) ==
	       offsetof(struct rte_mbuf, rx_descriptor_fields1) + 4 &&
	       offsetof(struct rte_mbuf, data_len) ==
	       offsetof(struct rte_mbuf, rx_descriptor_fields1) + 8 &&
	       offsetof(struct rte_mbuf, packet_type) ==
	       offsetof(struct rte_mbuf, rx_descriptor_fields1),
	       "packet_type, pkt_len, data_len: the first 10 bytes");

/*
 * vireo_rx_init_mbuf for groups of four frames from pkts[0] on while
 * all four carry more than the header, the same 32 bytes per mbuf in
 * two 16-byte stores: the rearm word with ol_flags 0, then packet_type
 * 0, pkt_len, data_len, vlan_tci 0 and the low half of the hash 0.
 * Returns how many it did (a multiple of four), their bytes added to
 * *bytes; the caller takes the rest one by one.
 */
static __rte_always_inline uint16_t
vireo_dp_rx_init4(const struct vireo_rxq *rxq, struct rte_mbuf **pkts,
		  const uint32_t *lens, uint16_t n, uint64_t *bytes)
{
	const __m128i hdr = _mm_set1_epi32(rxq->hdr_size);
	const __m128i rearm = _mm_set_epi64x(0, rxq->mbuf_rearm);
	/* frame length i into bytes 4-7 (pkt_len) and 8-9 (data_len),
	 * zeros elsewhere */
	const __m128i place[VIREO_VEC_BATCH] = {
		_mm_setr_epi8(-1, -1, -1, -1, 0, 1, 2, 3, 0, 1,
			      -1, -1, -1, -1, -1, -1),
		_mm_setr_epi8(-1, -1, -1, -1, 4, 5, 6, 7, 4, 5,
			      -1, -1, -1, -1, -1, -1),
		_mm_setr_epi8(-1, -1, -1, -1, 8, 9, 10, 11, 8, 9,
			      -1, -1, -1, -1, -1, -1),
		_mm_setr_epi8(-1, -1, -1, -1, 12, 13, 14, 15, 12, 13,
			      -1, -1, -1, -1, -1, -1),
	};
	__m128i sum = _mm_setzero_si128();
	uint16_t i, k;

	for (i = 0; i + VIREO_VEC_BATCH <= n; i += VIREO_VEC_BATCH) {
		__m128i l = _mm_loadu_si128((const __m128i *)&lens[i]);

		/* lengths are at most a posted buffer: signed compare */
		if (_mm_movemask_ps(_mm_castsi128_ps(_mm_cmpgt_epi32(l, hdr))) !=
		    0xf)
			break;
		l = _mm_sub_epi32(l, hdr);
		sum = _mm_add_epi32(sum, l);
		for (k = 0; k < VIREO_VEC_BATCH; k++) {
			struct rte_mbuf *m = pkts[i + k];

			_mm_storeu_si128((__m128i *)&m->rearm_data, rearm);
			_mm_storeu_si128((__m128i *)&m->rx_descriptor_fields1,
					 _mm_shuffle_epi8(l, place[k]));
		}
	}
	/* at most a burst of frames below 64 KB each: 32 bits hold it */
	sum = _mm_add_epi32(sum, _mm_shuffle_epi32(sum, _MM_SHUFFLE(1, 0, 3, 2)));
	sum = _mm_add_epi32(sum, _mm_shuffle_epi32(sum, _MM_SHUFFLE(2, 3, 0, 1)));
	*bytes += (uint32_t)_mm_cvtsi128_si32(sum);
	return i;
}

/*
 * The Rx refill's adds four at a time, from fresh[0] on: returns how
 * many were added (a multiple of four; the caller adds the rest one by
 * one, and the first itself when this added none).
 */
static __rte_always_inline uint16_t
vireo_dp_refill4(struct vireo_vq_run *run, struct rte_mbuf **fresh,
		 uint16_t n, uint32_t buf_offset, uint16_t addr_offset,
		 uint16_t lead, uint32_t buf_len,
		 const enum vireo_vq_layout layout, const bool in_order)
{
#if defined(__AVX2__)
	const __m128i lens = _mm_set1_epi32((int)buf_len);
	const __m256i add = _mm256_set1_epi64x(lead);
	const __m256i add_to_mbuf = _mm256_set1_epi64x(buf_offset + lead);
	uint16_t i;

	RTE_BUILD_BUG_ON(sizeof(uintptr_t) != sizeof(uint64_t));
	for (i = 0; i + VIREO_VEC_BATCH <= n; i += VIREO_VEC_BATCH) {
		/* Four addresses from the four pointers themselves, when
		 * the buffers are where the pool put them; else from the
		 * mbufs. */
		__m256i addrs = likely(buf_offset != 0) ?
			_mm256_add_epi64(_mm256_loadu_si256(
				(const __m256i *)(fresh + i)), add_to_mbuf) :
			_mm256_add_epi64(_mm256_setr_epi64x(
			vireo_mbuf_dev_addr(fresh[i], addr_offset),
			vireo_mbuf_dev_addr(fresh[i + 1], addr_offset),
			vireo_mbuf_dev_addr(fresh[i + 2], addr_offset),
			vireo_mbuf_dev_addr(fresh[i + 3], addr_offset)), add);
		bool ok = i == 0 ?
			vireo_vq_run_add4(run, addrs, lens, VIRTQ_DESC_F_WRITE,
					  (void *const *)fresh, layout,
					  in_order, true) :
			vireo_vq_run_add4(run, addrs, lens, VIRTQ_DESC_F_WRITE,
					  (void *const *)(fresh + i), layout,
					  in_order, false);

		if (!ok)
			break;
	}
	return i;
#else
	RTE_SET_USED(run); RTE_SET_USED(fresh); RTE_SET_USED(n);
	RTE_SET_USED(buf_offset); RTE_SET_USED(addr_offset);
	RTE_SET_USED(lead); RTE_SET_USED(buf_len);
	RTE_SET_USED(layout); RTE_SET_USED(in_order);
	return 0;
#endif
}

#include "vireo_rx.c"
#include "vireo_tx.c"

#endif /* VIREO_RXTX_VEC_H */
