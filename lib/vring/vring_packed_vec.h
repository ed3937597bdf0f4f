/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The Vireo Authors
 */

/*
 * Packed layout, driver role: batches of four for vector units.
 * Included by vring_vec.h only; see there for the rules.
 *
 * Four descriptors are one 64-byte line (16 bytes each: addr, len, id,
 * flags).  Reclaim loads the four flags words at once and checks all
 * four used in the current phase with one compare; adds write the four
 * descriptors whole, the first head's flags still withheld until the
 * publish as in vireo_vq_add1_burst_packed.
 */

#ifndef VIREO_VRING_PACKED_VEC_H
#define VIREO_VRING_PACKED_VEC_H

#ifndef VIREO_VRING_VEC_H
#error "include vring_vec.h, not vring_packed_vec.h"
#endif

/* AVAIL and USED, where they sit in the high 8 bytes of a descriptor. */
#define VIREO_PACKED_VEC_PHASE \
	((uint64_t)(VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED) << 48)

/*
 * Are the four descriptors at d all used in phase 'wrap'?  If so, their
 * lengths and ids (32-bit lanes, in ring order) are in *lens and *ids.
 *
 * Two loads: the flags first, then, after an acquire, the ids and
 * lengths.  The acquire pairs with the device's release of each used
 * flags word made after it wrote id and len, exactly as the scalar
 * reclaim's acquire load of one flags word does; the second load cannot
 * see older ids or lengths than the flags the first one saw.
 */
static inline __attribute__((always_inline)) bool
vireo_packed_vec_used4(const struct vireo_packed_desc *d, bool wrap,
		       __m128i *lens, __m128i *ids)
{
#if defined(__AVX512F__)
	const __m512i phase = _mm512_set1_epi64(VIREO_PACKED_VEC_PHASE);
	const __m512i want = wrap ? phase : _mm512_setzero_si512();
	/* dwords: the four lengths, then the four id | flags << 16 */
	const __m512i order = _mm512_setr_epi32(2, 6, 10, 14, 3, 7, 11, 15,
						0, 0, 0, 0, 0, 0, 0, 0);
	__m512i v = _mm512_loadu_si512((const void *)d);

	/* odd qwords hold len, id, flags: one compare for the four */
	if (_mm512_mask_cmpneq_epu64_mask(0xaa, _mm512_and_si512(v, phase),
					  want) != 0)
		return false;
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	v = _mm512_permutexvar_epi32(order, _mm512_loadu_si512((const void *)d));
	*lens = _mm512_castsi512_si128(v);
	*ids = _mm_and_si128(_mm512_extracti32x4_epi32(v, 1),
			     _mm_set1_epi32(0xffff));
#elif defined(__AVX2__)
	const __m256i phase = _mm256_set1_epi64x(VIREO_PACKED_VEC_PHASE);
	const __m256i want = wrap ? phase : _mm256_setzero_si256();
	/* the high qwords come out as 0, 2, 1, 3: back to ring order */
	const __m256i order = _mm256_setr_epi32(0, 4, 2, 6, 1, 5, 3, 7);
	const __m256i *p = (const __m256i *)d;
	__m256i h = _mm256_unpackhi_epi64(_mm256_loadu_si256(p),
					  _mm256_loadu_si256(p + 1));

	if (_mm256_movemask_epi8(_mm256_cmpeq_epi64(_mm256_and_si256(h, phase),
						    want)) != -1)
		return false;
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	h = _mm256_permutevar8x32_epi32(_mm256_unpackhi_epi64(
		_mm256_loadu_si256(p), _mm256_loadu_si256(p + 1)), order);
	*lens = _mm256_castsi256_si128(h);
	*ids = _mm_and_si128(_mm256_extracti128_si256(h, 1),
			     _mm_set1_epi32(0xffff));
#else
	const __m128i phase = _mm_set1_epi64x(VIREO_PACKED_VEC_PHASE);
	const __m128i want = wrap ? phase : _mm_setzero_si128();
	const __m128i *p = (const __m128i *)d;
	__m128i h01 = _mm_unpackhi_epi64(_mm_loadu_si128(p),
					 _mm_loadu_si128(p + 1));
	__m128i h23 = _mm_unpackhi_epi64(_mm_loadu_si128(p + 2),
					 _mm_loadu_si128(p + 3));
	__m128i ok = _mm_and_si128(
		_mm_cmpeq_epi64(_mm_and_si128(h01, phase), want),
		_mm_cmpeq_epi64(_mm_and_si128(h23, phase), want));

	if (_mm_movemask_epi8(ok) != 0xffff)
		return false;
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	h01 = _mm_unpackhi_epi64(_mm_loadu_si128(p), _mm_loadu_si128(p + 1));
	h23 = _mm_unpackhi_epi64(_mm_loadu_si128(p + 2),
				 _mm_loadu_si128(p + 3));
	*lens = _mm_castps_si128(_mm_shuffle_ps(_mm_castsi128_ps(h01),
		_mm_castsi128_ps(h23), _MM_SHUFFLE(2, 0, 2, 0)));
	*ids = _mm_and_si128(_mm_castps_si128(_mm_shuffle_ps(
		_mm_castsi128_ps(h01), _mm_castsi128_ps(h23),
		_MM_SHUFFLE(3, 1, 3, 1))), _mm_set1_epi32(0xffff));
#endif
	return true;
}

/* The used side moves four slots on from pos, where it was (the caller
 * checked the four sit before the ring's end). */
static inline void
vireo_packed_vec_used_advance(struct vireo_vq *vq, uint16_t pos)
{
	pos += VIREO_VEC_BATCH;

	if (pos == vq->size) {
		pos = 0;
		vq->used_wrap_counter = !vq->used_wrap_counter;
	}
	vq->last_used = pos;
}

/*
 * Takes four used one-descriptor buffers at once, or nothing (false):
 * see vireo_vec_ids_ok for which ids pass.  Without IN_ORDER the caller
 * keeps at least four in flight; in order it has no batch open.
 */
static inline __attribute__((always_inline)) bool
vireo_vq_take4_packed(struct vireo_vq *vq, void **cookies, uint32_t *lens)
{
	uint16_t pos = VIREO_LOAD16(vq->last_used);
	uint32_t id[VIREO_VEC_BATCH];
	__m128i lv, iv;

	/* In order the scalar fetch stops at an empty ring: four must be
	 * out (ids say nothing about it there). */
	if (pos + VIREO_VEC_BATCH > vq->size ||
	    VIREO_LOAD16(vq->in_flight) < VIREO_VEC_BATCH ||
	    !vireo_packed_vec_used4(&vq->packed.ring.desc[pos],
				    vq->used_wrap_counter, &lv, &iv) ||
	    !vireo_vec_ids_ok(vq, iv))
		return false;
	_mm_storeu_si128((__m128i *)id, iv);
	if (!vireo_vec_slots4(vq->slot, id, &lv, cookies, lens))
		return false;
	vireo_vec_release4(vq, id, iv);
	vireo_packed_vec_used_advance(vq, pos);
	return true;
}

/*
 * In order: takes the next four buffers when the four used entries
 * from last_used on name exactly them (ids are slots: the positions),
 * one descriptor each, or nothing (false); as four entries of
 * vireo_vq_inorder_singles_packed leave the vq.
 */
static inline __attribute__((always_inline)) bool
vireo_vq_take4_packed_io(struct vireo_vq *vq, void **cookies, uint32_t *lens)
{
	uint32_t pos = VIREO_LOAD16(vq->last_used);
	__m128i lv, iv;

	if (pos + VIREO_VEC_BATCH > vq->size ||
	    VIREO_LOAD16(vq->in_flight) < VIREO_VEC_BATCH ||
	    !vireo_packed_vec_used4(&vq->packed.ring.desc[pos],
				    vq->used_wrap_counter, &lv, &iv) ||
	    vireo_vec_lanes(_mm_cmpeq_epi32(iv, _mm_add_epi32(
		_mm_set1_epi32((int)pos), _mm_setr_epi32(0, 1, 2, 3)))) != 0xf ||
	    !vireo_vec_slots4_seq(&vq->slot[pos], lv, cookies, lens))
		return false;
	vireo_packed_vec_used_advance(vq, pos);
	vq->inorder_next = vq->last_used;
	vq->nfree += VIREO_VEC_BATCH;
	vq->in_flight -= VIREO_VEC_BATCH;
	return true;
}

/*
 * Four adds of a run at once: what four vireo_vq_run_add_packed write,
 * in four 16-byte descriptors and four slots.  false, nothing done,
 * when the ring's end falls inside the four (the phase changes there)
 * or the unit has no 256-bit registers (the caller adds one by one).
 * @addrs: the four bus addresses; @lens: their lengths; @writable:
 * flags has VIRTQ_DESC_F_WRITE (each buffer's writable length is then
 * its length, else 0); cookies must not be NULL.
 */
static inline bool
vireo_vq_run_add4_packed(struct vireo_vq_run *r, __m256i addrs, __m128i lens,
			 uint16_t flags, bool writable, void *const *cookies,
			 const bool in_order, const bool first)
{
#if defined(__AVX2__)
	struct vireo_packed_desc *d = &r->desc.packed[r->pos];
	uint64_t f = (uint64_t)(flags | r->bits) << 48;
	__m256i len64 = _mm256_cvtepu32_epi64(lens);
	__m256i ids, hi, r01, r23, sl;
	uint32_t id[VIREO_VEC_BATCH], i;

	if (r->pos + VIREO_VEC_BATCH > r->size)
		return false;
	if (in_order) {
		/* the ids are the slots (vring_packed.h) */
		ids = _mm256_add_epi64(_mm256_set1_epi64x(r->pos),
				       _mm256_setr_epi64x(0, 1, 2, 3));
	} else {
		for (i = 0; i < VIREO_VEC_BATCH; i++)
			id[i] = r->free_ids[--r->id];
		ids = _mm256_setr_epi64x(id[0], id[1], id[2], id[3]);
	}
	hi = _mm256_or_si256(_mm256_or_si256(len64,
					     _mm256_slli_epi64(ids, 32)),
			     _mm256_set1_epi64x((int64_t)f));
	if (first && r->hold) {
		/* The withheld head (vireo_vq_run_add_packed): written whole
		 * with the flags it has now (not available: the device
		 * reads the same word), its own at the publish. */
		uint64_t h0 = (uint64_t)_mm256_extract_epi64(hi, 0);

		r->hold = false;
		r->held_flags = (uint32_t)(f >> 48);
		h0 = (h0 & UINT64_C(0x0000ffffffffffff)) |
			(uint64_t)VIREO_READ_ONCE(d->flags) << 48;
		hi = _mm256_insert_epi64(hi, (int64_t)h0, 0);
	}
	/* Plain stores: the device reads no slot after the withheld head
	 * before it acquires that head's flags, whose release covers them. */
	vireo_vec_pairs4(addrs, hi, &r01, &r23);
	_mm256_storeu_si256((__m256i *)d, r01);
	_mm256_storeu_si256((__m256i *)(d + 2), r23);
	/* slots: cookie, then buflen | ndesc 1 << 32 | next 0 << 48 */
	sl = _mm256_or_si256(writable ? len64 : _mm256_setzero_si256(),
			     _mm256_set1_epi64x(INT64_C(1) << 32));
	vireo_vec_pairs4(_mm256_loadu_si256((const __m256i *)cookies), sl,
			 &r01, &r23);
	if (in_order) {
		_mm256_storeu_si256((__m256i *)&r->slot[r->pos], r01);
		_mm256_storeu_si256((__m256i *)&r->slot[r->pos + 2], r23);
	} else {
		_mm_storeu_si128((__m128i *)&r->slot[id[0]],
				 _mm256_castsi256_si128(r01));
		_mm_storeu_si128((__m128i *)&r->slot[id[1]],
				 _mm256_extracti128_si256(r01, 1));
		_mm_storeu_si128((__m128i *)&r->slot[id[2]],
				 _mm256_castsi256_si128(r23));
		_mm_storeu_si128((__m128i *)&r->slot[id[3]],
				 _mm256_extracti128_si256(r23, 1));
	}
	r->pos += VIREO_VEC_BATCH;
	if (r->pos == r->size) {
		r->pos = 0;
		r->bits ^= VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED;
	}
	return true;
#else
	(void)r; (void)addrs; (void)lens; (void)flags; (void)writable;
	(void)cookies; (void)in_order; (void)first;
	return false;
#endif
}

#endif /* VIREO_VRING_PACKED_VEC_H */
