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
static inline __attribute__((always_inline)) void
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
static inline __attribute__((always_inline)) bool
vireo_vq_take4_split(struct vireo_vq *vq, void **cookies, uint32_t *lens)
{
	uint16_t last = VIREO_LOAD16(vq->last_used);
	uint16_t idx = last & (vq->size - 1);
	uint32_t id[VIREO_VEC_BATCH];
	__m128i lv, iv;

	if ((uint16_t)(VIREO_LOAD16(vq->split.used_idx_seen) - last) <
	    VIREO_VEC_BATCH || idx + VIREO_VEC_BATCH > vq->size)
		return false;
	vireo_split_vec_used4(&vq->split.ring.used->ring[idx], &lv, &iv);
	if (!vireo_vec_ids_ok(vq, iv))
		return false;
	_mm_storeu_si128((__m128i *)id, iv);
	if (!vireo_vec_slots4(vq->slot, id, &lv, cookies, lens))
		return false;
	vireo_vec_release4(vq, id, iv);
	vq->last_used = last + VIREO_VEC_BATCH;
	return true;
}

/*
 * In order: takes the next four buffers when the four used entries an
 * earlier acquire of used->idx saw name exactly them, one descriptor
 * each, with their slots side by side; or nothing (false).  As four
 * entries of vireo_vq_inorder_singles_split leave the vq.
 */
static inline __attribute__((always_inline)) bool
vireo_vq_take4_split_io(struct vireo_vq *vq, void **cookies, uint32_t *lens)
{
	uint16_t last = VIREO_LOAD16(vq->last_used);
	uint32_t idx = last & (vq->size - 1);
	uint32_t next = VIREO_LOAD16(vq->inorder_next);
	__m128i lv, iv;

	if ((uint16_t)(VIREO_LOAD16(vq->split.used_idx_seen) - last) <
	    VIREO_VEC_BATCH || idx + VIREO_VEC_BATCH > vq->size ||
	    next + VIREO_VEC_BATCH > vq->size)
		return false;
	vireo_split_vec_used4(&vq->split.ring.used->ring[idx], &lv, &iv);
	if (vireo_vec_lanes(_mm_cmpeq_epi32(iv, _mm_add_epi32(
		_mm_set1_epi32((int)next), _mm_setr_epi32(0, 1, 2, 3)))) != 0xf ||
	    !vireo_vec_slots4_seq(&vq->slot[next], lv, cookies, lens))
		return false;
	vq->last_used = last + VIREO_VEC_BATCH;
	vq->inorder_next = (next + VIREO_VEC_BATCH) & (vq->size - 1);
	vq->nfree += VIREO_VEC_BATCH;
	vq->in_flight -= VIREO_VEC_BATCH;
	return true;
}

/*
 * Four adds of a run at once: what four vireo_vq_run_add_split write.
 * false, nothing done, when in order the four heads would wrap round
 * the table, or the unit has no 256-bit registers.  Arguments as for
 * vireo_vq_run_add4_packed.
 */
static inline bool
vireo_vq_run_add4_split(struct vireo_vq_run *r, __m256i addrs, __m128i lens,
			uint16_t flags, bool writable, void *const *cookies,
			const bool in_order)
{
#if defined(__AVX2__)
	const uint32_t mask = r->size - 1, apos = r->pos & mask;
	__m256i len64 = _mm256_cvtepu32_epi64(lens);
	__m256i hi, r01, r23, sl;
	uint32_t head[VIREO_VEC_BATCH], i;

	if (in_order) {
		if (r->id + VIREO_VEC_BATCH > r->size)
			return false;
		for (i = 0; i < VIREO_VEC_BATCH; i++)
			head[i] = r->id + i;
		r->id = (r->id + VIREO_VEC_BATCH) & mask;
	} else {
		/* the caller checked four are free: four off the stack */
		for (i = 0; i < VIREO_VEC_BATCH; i++)
			head[i] = r->free_ids[--r->id];
	}
	/* addr, then len | flags << 32 | next 0 << 48 */
	hi = _mm256_or_si256(len64, _mm256_set1_epi64x((int64_t)flags << 32));
	vireo_vec_pairs4(addrs, hi, &r01, &r23);
	if (in_order) {
		_mm256_storeu_si256((__m256i *)&r->desc.split[head[0]], r01);
		_mm256_storeu_si256((__m256i *)&r->desc.split[head[2]], r23);
	} else {
		_mm_storeu_si128((__m128i *)&r->desc.split[head[0]],
				 _mm256_castsi256_si128(r01));
		_mm_storeu_si128((__m128i *)&r->desc.split[head[1]],
				 _mm256_extracti128_si256(r01, 1));
		_mm_storeu_si128((__m128i *)&r->desc.split[head[2]],
				 _mm256_castsi256_si128(r23));
		_mm_storeu_si128((__m128i *)&r->desc.split[head[3]],
				 _mm256_extracti128_si256(r23, 1));
	}
	/* plain, like the descriptors: the release store of avail->idx at
	 * the publish makes them visible */
	if (apos + VIREO_VEC_BATCH <= r->size) {
		uint64_t heads = (uint64_t)head[0] | (uint64_t)head[1] << 16 |
			(uint64_t)head[2] << 32 | (uint64_t)head[3] << 48;

		memcpy(&r->avail[apos], &heads, sizeof(heads));
	} else {
		for (i = 0; i < VIREO_VEC_BATCH; i++)
			r->avail[(apos + i) & mask] = (uint16_t)head[i];
	}
	r->pos += VIREO_VEC_BATCH;
	/* slots: cookie, then buflen | ndesc 1 << 32 | next 0 << 48 */
	sl = _mm256_or_si256(writable ? len64 : _mm256_setzero_si256(),
			     _mm256_set1_epi64x(INT64_C(1) << 32));
	vireo_vec_pairs4(_mm256_loadu_si256((const __m256i *)cookies), sl,
			 &r01, &r23);
	if (in_order) {
		_mm256_storeu_si256((__m256i *)&r->slot[head[0]], r01);
		_mm256_storeu_si256((__m256i *)&r->slot[head[2]], r23);
	} else {
		_mm_storeu_si128((__m128i *)&r->slot[head[0]],
				 _mm256_castsi256_si128(r01));
		_mm_storeu_si128((__m128i *)&r->slot[head[1]],
				 _mm256_extracti128_si256(r01, 1));
		_mm_storeu_si128((__m128i *)&r->slot[head[2]],
				 _mm256_castsi256_si128(r23));
		_mm_storeu_si128((__m128i *)&r->slot[head[3]],
				 _mm256_extracti128_si256(r23, 1));
	}
	return true;
#else
	(void)r; (void)addrs; (void)lens; (void)flags; (void)writable;
	(void)cookies; (void)in_order;
	return false;
#endif
}

#endif /* VIREO_VRING_SPLIT_VEC_H */
