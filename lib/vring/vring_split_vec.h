/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The Vireo Authors
 */

/*
 * Split layout, driver role: batches of four for vector units.
 * Included by vring_vec.h only; see there for the rules.
 *
 * Used ring entries are 8 bytes (id, len): four are 32 bytes, their ids
 * bounds-checked in one compare.  They are read after the acquire of
 * used->idx (vireo_vq_split_ready), as in the scalar loop.  Adds write
 * each descriptor in one store and the four avail entries in one.
 */

#ifndef VIREO_VRING_SPLIT_VEC_H
#define VIREO_VRING_SPLIT_VEC_H

#ifndef VIREO_VRING_VEC_H
#error "include vring_vec.h, not vring_split_vec.h"
#endif

/* The ids and lengths of the four used entries at e (32-bit lanes). */
static inline void
vireo_split_vec_used4(const struct vireo_split_used_elem *e, __m128i *lens,
		      __m128i *ids)
{
#if defined(__AVX2__)
	__m256i v = _mm256_permutevar8x32_epi32(
		_mm256_loadu_si256((const __m256i *)e),
		_mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7));

	*ids = _mm256_castsi256_si128(v);
	*lens = _mm256_extracti128_si256(v, 1);
#else
	__m128 e01 = _mm_castsi128_ps(_mm_loadu_si128((const __m128i *)e));
	__m128 e23 = _mm_castsi128_ps(_mm_loadu_si128((const __m128i *)(e + 2)));

	*ids = _mm_castps_si128(_mm_shuffle_ps(e01, e23,
					       _MM_SHUFFLE(2, 0, 2, 0)));
	*lens = _mm_castps_si128(_mm_shuffle_ps(e01, e23,
						_MM_SHUFFLE(3, 1, 3, 1)));
#endif
}

/*
 * Takes four used one-descriptor buffers at once, or nothing (false):
 * see vireo_vec_ids_ok for which ids pass.  Only entries an earlier
 * acquire of used->idx saw are looked at: when to load it again is the
 * scalar code's decision, made where it would make it.
 */
static inline bool
vireo_vq_take4_split(struct vireo_vq *vq, void **cookies, uint32_t *lens)
{
	uint16_t idx = vq->last_used & (vq->size - 1);
	uint32_t id[VIREO_VEC_BATCH];
	__m128i lv, iv;

	if ((uint16_t)(vq->split.used_idx_seen - vq->last_used) <
	    VIREO_VEC_BATCH || idx + VIREO_VEC_BATCH > vq->size)
		return false;
	vireo_split_vec_used4(&vq->split.ring.used->ring[idx], &lv, &iv);
	if (!vireo_vec_ids_ok(vq, iv))
		return false;
	_mm_storeu_si128((__m128i *)id, iv);
	if (!vireo_vec_slots4(vq->slot, id, &lv, cookies, lens))
		return false;
	vireo_vec_release4(vq, id);
	vq->last_used += VIREO_VEC_BATCH;
	return true;
}

/*
 * Adds four one-descriptor buffers, or nothing (false) when a cookie is
 * NULL.  The caller checked four descriptors are free.
 */
static inline bool
vireo_vq_add4_split(struct vireo_vq *vq, const struct vireo_buf *bufs,
		    void *const *cookies, uint16_t flags)
{
	uint16_t *avail_ring = vq->split.ring.avail->ring;
	uint16_t mask = vq->size - 1, pos = vq->split.avail_idx & mask;
	uint16_t head[VIREO_VEC_BATCH], free_head;
	uint64_t heads;
	int i;

	if (!vireo_vec_cookies4(cookies))
		return false;
	free_head = vireo_vec_ids4(vq, head);
	/*
	 * Each descriptor in one 16-byte store: addr and len from the
	 * buffer, our flags, and the next link as it was (unused without
	 * F_NEXT; the scalar add leaves it too).  Plain stores, like the
	 * avail entries: the release store of avail->idx at the publish
	 * makes them visible.
	 */
	for (i = 0; i < VIREO_VEC_BATCH; i++) {
		struct vireo_split_desc *d = &vq->split.ring.desc[head[i]];
		__m128i v = _mm_loadu_si128((const __m128i *)&bufs[i]);

		v = _mm_insert_epi32(v, (uint32_t)flags |
				     (uint32_t)d->next << 16, 3);
		_mm_storeu_si128((__m128i *)d, v);
	}
	if (pos + VIREO_VEC_BATCH <= vq->size) {
		/* the four avail entries in one 8-byte store */
		heads = (uint64_t)head[0] | (uint64_t)head[1] << 16 |
			(uint64_t)head[2] << 32 | (uint64_t)head[3] << 48;
		memcpy(&avail_ring[pos], &heads, sizeof(heads));
	} else {
		for (i = 0; i < VIREO_VEC_BATCH; i++)
			avail_ring[(pos + i) & mask] = head[i];
	}
	vq->split.avail_idx += VIREO_VEC_BATCH;
	vireo_vec_fill4(vq, head, bufs, cookies, flags, free_head);
	return true;
}

#endif /* VIREO_VRING_SPLIT_VEC_H */
