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
 * vireo_rx_init_mbuf for each run of four frames that all carry more
 * than the header, the same 32 bytes per mbuf in two 16-byte stores:
 * the rearm word with ol_flags 0, then packet_type 0, pkt_len, data_len,
 * vlan_tci 0 and the low half of the hash 0.  Returns the frames done,
 * bit i for pkts[i]; the others take the scalar way (a short frame is
 * dropped there).
 */
static __rte_always_inline uint64_t
vireo_dp_rx_init4(const struct vireo_rxq *rxq, struct rte_mbuf **pkts,
		  const uint32_t *lens, uint16_t n)
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
	uint64_t done = 0;
	uint16_t i, k;

	for (i = 0; i + VIREO_VEC_BATCH <= n; i += VIREO_VEC_BATCH) {
		__m128i l = _mm_loadu_si128((const __m128i *)&lens[i]);

		/* lengths are at most a posted buffer: signed compare */
		if (_mm_movemask_ps(_mm_castsi128_ps(_mm_cmpgt_epi32(l, hdr))) !=
		    0xf)
			continue;
		l = _mm_sub_epi32(l, hdr);
		for (k = 0; k < VIREO_VEC_BATCH; k++) {
			struct rte_mbuf *m = pkts[i + k];

			_mm_storeu_si128((__m128i *)&m->rearm_data, rearm);
			_mm_storeu_si128((__m128i *)&m->rx_descriptor_fields1,
					 _mm_shuffle_epi8(l, place[k]));
		}
		done |= (uint64_t)0xf << i;
	}
	return done;
}

#include "vireo_rx.c"
#include "vireo_tx.c"

#endif /* VIREO_RXTX_VEC_H */
