/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The Vireo Authors
 */

/*
 * Batch primitives of the driver role for x86-64 vector units: reclaim
 * four used buffers and add four one-descriptor buffers at once, both
 * layouts.  No DPDK, no allocation, like the rest of the ring core.
 *
 * Every function here gives exactly what the scalar one of vring.h
 * gives (same buffers, lengths, ring and slot state, errors at the same
 * entry): a batch is taken by the vector code only when a quick check
 * proves all four entries good and ordinary; any other batch (an entry
 * not used yet, the ring's end inside the batch, a chain, or anything
 * the device got wrong) goes through the scalar loop, which takes what
 * is good and names the precise error.  Nothing is modified before a
 * batch's checks pass.
 *
 * Included by units built with -msse4.2 at least (the PMD's
 * vireo_rxtx_vec_*.c, app/test/vring/test_vring_vec.c); the same source
 * uses 256- or 512-bit registers where the unit is built for them, so
 * each unit gets its own copy (all static inline).
 *
 * Memory ordering on x86: loads are not reordered with older loads and
 * stores not with older stores (TSO), so an acquire or release needs
 * only that the compiler keep the order: __atomic_thread_fence() does.
 * The scalar code's acquire and release points are kept one for one.
 */

#ifndef VIREO_VRING_VEC_H
#define VIREO_VRING_VEC_H

#if !defined(__x86_64__) || !defined(__SSE4_2__)
#error "vring_vec.h needs an x86-64 unit built with -msse4.2 or more"
#endif

#include <immintrin.h>
#include <string.h>

#include "vring.h"

/* Buffers a vector batch takes or adds. */
#define VIREO_VEC_BATCH		4
#define VIREO_VEC_MIN(a, b)	((a) < (b) ? (a) : (b))

/* Bit i set when 32-bit lane i of 'ok' is all ones. */
static inline int
vireo_vec_lanes(__m128i ok)
{
	return _mm_movemask_ps(_mm_castsi128_ps(ok));
}

/* True when the four 32-bit ids are pairwise different: each is
 * compared with the others by two rotations (six pairs). */
static inline bool
vireo_vec_distinct4(__m128i ids)
{
	__m128i r1 = _mm_shuffle_epi32(ids, _MM_SHUFFLE(0, 3, 2, 1));
	__m128i r2 = _mm_shuffle_epi32(ids, _MM_SHUFFLE(1, 0, 3, 2));
	__m128i same = _mm_or_si128(_mm_cmpeq_epi32(ids, r1),
				    _mm_cmpeq_epi32(ids, r2));

	return _mm_testz_si128(same, same);
}

/* True when every id is below 'size' (unsigned: a device id is 32 bits
 * on split, and a huge one must not pass as negative). */
static inline bool
vireo_vec_below4(__m128i ids, uint16_t size)
{
	__m128i top = _mm_set1_epi32(size - 1);

	return vireo_vec_lanes(_mm_cmpeq_epi32(_mm_min_epu32(ids, top),
					       ids)) == 0xf;
}

/*
 * Are these the ids four used entries may name?  In order: the next four
 * ids, one each (the device wrote every entry rather than one per
 * batch: a batch goes the scalar way).  Otherwise: ids in range, none
 * twice (the scalar loop would find the second one not outstanding).
 */
static inline bool
vireo_vec_ids_ok(const struct vireo_vq *vq, __m128i ids)
{
	__m128i expect, size;

	if (!(vq->options & VIREO_VQ_OPT_IN_ORDER))
		return vireo_vec_below4(ids, vq->size) &&
			vireo_vec_distinct4(ids);
	size = _mm_set1_epi32(vq->size);
	expect = _mm_add_epi32(_mm_set1_epi32(vq->inorder_next),
			       _mm_setr_epi32(0, 1, 2, 3));
	/* past the last id, on from 0 */
	expect = _mm_sub_epi32(expect, _mm_and_si128(size,
		_mm_cmpgt_epi32(expect, _mm_sub_epi32(size, _mm_set1_epi32(1)))));
	return vireo_vec_lanes(_mm_cmpeq_epi32(ids, expect)) == 0xf;
}

/*
 * The slot checks of four used entries naming ids[0..3]: each slot
 * outstanding (cookie set), one descriptor (so the next entry follows),
 * and the length within what was posted, with the scalar's tolerance
 * (vireo_vq_used_len: nothing writable posted, length taken as 0).
 * On success the cookies and the lengths to report are in out_cookies
 * and out_lens (the caller's arrays, out_lens may be NULL; nothing else
 * is written), the lengths also in *lens.
 */
static inline __attribute__((always_inline)) bool
vireo_vec_slots4(const struct vireo_vq_slot *slot, const uint32_t *ids,
		 __m128i *lens, void **out_cookies, uint32_t *out_lens)
{
	/* A slot is 16 bytes: cookie, then buflen, ndesc, next. */
	__m128i s0 = _mm_loadu_si128((const __m128i *)&slot[ids[0]]);
	__m128i s1 = _mm_loadu_si128((const __m128i *)&slot[ids[1]]);
	__m128i s2 = _mm_loadu_si128((const __m128i *)&slot[ids[2]]);
	__m128i s3 = _mm_loadu_si128((const __m128i *)&slot[ids[3]]);
	__m128i c01 = _mm_unpacklo_epi64(s0, s1);
	__m128i c23 = _mm_unpacklo_epi64(s2, s3);
	__m128i h01 = _mm_unpackhi_epi64(s0, s1);
	__m128i h23 = _mm_unpackhi_epi64(s2, s3);
	__m128i zero = _mm_setzero_si128();
	__m128i null = _mm_or_si128(_mm_cmpeq_epi64(c01, zero),
				    _mm_cmpeq_epi64(c23, zero));
	/* Lanes: buflen of slots 0..3, then ndesc | next << 16. */
	__m128i buflen = _mm_castps_si128(_mm_shuffle_ps(_mm_castsi128_ps(h01),
		_mm_castsi128_ps(h23), _MM_SHUFFLE(2, 0, 2, 0)));
	__m128i ndnx = _mm_castps_si128(_mm_shuffle_ps(_mm_castsi128_ps(h01),
		_mm_castsi128_ps(h23), _MM_SHUFFLE(3, 1, 3, 1)));
	__m128i one = _mm_cmpeq_epi32(_mm_and_si128(ndnx,
				_mm_set1_epi32(0xffff)), _mm_set1_epi32(1));
	/* len <= buflen, unsigned; or nothing writable posted */
	__m128i fits = _mm_cmpeq_epi32(_mm_max_epu32(*lens, buflen), buflen);
	__m128i none = _mm_cmpeq_epi32(buflen, zero);

	if (!_mm_testz_si128(null, null) || vireo_vec_lanes(one) != 0xf ||
	    vireo_vec_lanes(_mm_or_si128(fits, none)) != 0xf)
		return false;
	_mm_storeu_si128((__m128i *)&out_cookies[0], c01);
	_mm_storeu_si128((__m128i *)&out_cookies[2], c23);
	/* A length that does not fit is one on a read-only buffer: 0. */
	*lens = _mm_and_si128(*lens, fits);
	if (out_lens != NULL)
		_mm_storeu_si128((__m128i *)out_lens, *lens);
	return true;
}

/*
 * In order, the slot checks of four entries naming the four slots from
 * s on (vireo_vec_slots4's, for slots side by side): on success the
 * cookies and lengths go out (out_lens may be NULL) and the four slots'
 * cookies are cleared; on failure nothing is written.
 */
static inline __attribute__((always_inline)) bool
vireo_vec_slots4_seq(struct vireo_vq_slot *s, __m128i lens,
		     void **out_cookies, uint32_t *out_lens)
{
#if defined(__AVX2__)
	__m256i *p = (__m256i *)s;
	/* slots 0, 1 | 2, 3: the cookie, then buflen | ndesc | next */
	__m256i a = _mm256_loadu_si256(p), b = _mm256_loadu_si256(p + 1);
	__m256i c = _mm256_permute4x64_epi64(_mm256_unpacklo_epi64(a, b),
					     _MM_SHUFFLE(3, 1, 2, 0));
	__m256i x = _mm256_permute4x64_epi64(_mm256_unpackhi_epi64(a, b),
					     _MM_SHUFFLE(3, 1, 2, 0));
	__m256i zero = _mm256_setzero_si256();
	__m256i bad = _mm256_or_si256(_mm256_cmpeq_epi64(c, zero),
		_mm256_xor_si256(_mm256_and_si256(x,
			_mm256_set1_epi64x(INT64_C(0xffff) << 32)),
			_mm256_set1_epi64x(INT64_C(1) << 32)));
	/* the four buflens, packed */
	__m128i buflen = _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(x,
		_mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6)));
	__m128i fits = _mm_cmpeq_epi32(_mm_max_epu32(lens, buflen), buflen);
	__m128i none = _mm_cmpeq_epi32(buflen, _mm_setzero_si128());

	if (!_mm256_testz_si256(bad, bad) ||
	    vireo_vec_lanes(_mm_or_si128(fits, none)) != 0xf)
		return false;
	_mm256_storeu_si256((__m256i *)out_cookies, c);
	/* a length that does not fit is one on a read-only buffer: 0 */
	if (out_lens != NULL)
		_mm_storeu_si128((__m128i *)out_lens, _mm_and_si128(lens, fits));
	_mm256_storeu_si256(p, _mm256_blend_epi32(a, zero, 0x33));
	_mm256_storeu_si256(p + 1, _mm256_blend_epi32(b, zero, 0x33));
	return true;
#else
	const uint32_t ids[VIREO_VEC_BATCH] = { 0, 1, 2, 3 };
	int i;

	if (!vireo_vec_slots4(s, ids, &lens, out_cookies, out_lens))
		return false;
	for (i = 0; i < VIREO_VEC_BATCH; i++)
		s[i].cookie = NULL;
	return true;
#endif
}

/* True when none of the four cookies is NULL. */
static inline bool
vireo_vec_cookies4(void *const *cookies)
{
	__m128i zero = _mm_setzero_si128();
	__m128i null = _mm_or_si128(
		_mm_cmpeq_epi64(_mm_loadu_si128((const __m128i *)&cookies[0]),
				zero),
		_mm_cmpeq_epi64(_mm_loadu_si128((const __m128i *)&cookies[2]),
				zero));

	return _mm_testz_si128(null, null);
}

#if defined(__AVX2__)
/* Four 16-byte records {lo[i], hi[i]} from the four lows and the four
 * highs: records 0-1 in *r01, 2-3 in *r23. */
static inline void
vireo_vec_pairs4(__m256i lo, __m256i hi, __m256i *r01, __m256i *r23)
{
	__m256i a = _mm256_unpacklo_epi64(lo, hi);	/* 0, 2 */
	__m256i b = _mm256_unpackhi_epi64(lo, hi);	/* 1, 3 */

	*r01 = _mm256_permute2x128_si256(a, b, 0x20);
	*r23 = _mm256_permute2x128_si256(a, b, 0x31);
}
#endif

/*
 * Four reclaimed one-descriptor buffers leave the books: cookies
 * cleared, and without IN_ORDER the ids pushed on the stack in ring
 * order (one 8-byte store), as the scalar loop leaves them.  In order,
 * the four were four batches of one, as vireo_vq_inorder_begin/take
 * leave them.
 */
static inline void
vireo_vec_release4(struct vireo_vq *vq, const uint32_t *id, __m128i ids)
{
	uint16_t top = VIREO_LOAD16(vq->free_cursor);
	int i;

	for (i = 0; i < VIREO_VEC_BATCH; i++)
		vq->slot[id[i]].cookie = NULL;
	if (vq->options & VIREO_VQ_OPT_IN_ORDER) {
		vq->inorder_next = id[VIREO_VEC_BATCH - 1] + 1 == vq->size ?
			0 : id[VIREO_VEC_BATCH - 1] + 1;
	} else {
		/* ids are below size (vireo_vec_ids_ok): they fit 16 bits */
		_mm_storel_epi64((__m128i *)&vq->free_ids[top],
				 _mm_packus_epi32(ids, ids));
		vq->free_cursor = top + VIREO_VEC_BATCH;
	}
	vq->nfree += VIREO_VEC_BATCH;
	vq->in_flight -= VIREO_VEC_BATCH;
}

#include "vring_packed_vec.h"
#include "vring_split_vec.h"

VIREO_HOT bool
vireo_vq_take4(struct vireo_vq *vq, void **cookies, uint32_t *lens,
	       const enum vireo_vq_layout layout)
{
	return layout == VIREO_VQ_SPLIT ?
		vireo_vq_take4_split(vq, cookies, lens) :
		vireo_vq_take4_packed(vq, cookies, lens);
}

/* The same in order (the vq negotiated IN_ORDER). */
VIREO_HOT bool
vireo_vq_take4_io(struct vireo_vq *vq, void **cookies, uint32_t *lens,
		  const enum vireo_vq_layout layout)
{
	return layout == VIREO_VQ_SPLIT ?
		vireo_vq_take4_split_io(vq, cookies, lens) :
		vireo_vq_take4_packed_io(vq, cookies, lens);
}

/*
 * Vector twin of vireo_vq_reclaim_split/_packed (without IN_ORDER):
 * the same bound on what may be taken, then batches of four, and the
 * scalar run wherever a batch is not four good ones: it takes what is
 * good and stops where the scalar loop would have stopped.
 */
VIREO_HOT int
vireo_vq_reclaim_vec(struct vireo_vq *vq, void **cookies, uint32_t *lens,
		     uint16_t n, const enum vireo_vq_layout layout)
{
	uint16_t done = 0, want, k;
	int ready, err = 0;

	if (layout == VIREO_VQ_SPLIT) {
		ready = vireo_vq_split_ready(vq, n);
		if (VIREO_UNLIKELY(ready < 0))
			return ready;
	} else {
		/* never past what was published */
		ready = vq->in_flight;
	}
	if (n > ready)
		n = ready;
	while (done < n) {
		if (n - done >= VIREO_VEC_BATCH &&
		    vireo_vq_take4(vq, cookies + done, VIREO_AT(lens, done), layout)) {
			done += VIREO_VEC_BATCH;
			continue;
		}
		want = VIREO_VEC_MIN(n - done, VIREO_VEC_BATCH);
		k = layout == VIREO_VQ_SPLIT ?
			vireo_vq_reclaim_split_run(vq, cookies + done,
						   VIREO_AT(lens, done), want, &err) :
			vireo_vq_reclaim_packed_run(vq, cookies + done,
						    VIREO_AT(lens, done), want, &err);
		done += k;
		if (k < want)
			break;
	}
	if (VIREO_UNLIKELY(err != 0) && done == 0)
		return vireo_vq_break(vq, err);
	return done;
}

/*
 * Vector twin of vireo_vq_inorder_take: the one-descriptor case four
 * slots at a time (cookies from two 32-byte loads, cleared with two
 * blends), the rest as the scalar take does it.
 */
VIREO_HOT uint16_t
vireo_vq_inorder_take_vec(struct vireo_vq *vq, void **cookies, uint32_t *lens,
			  uint16_t n, const enum vireo_vq_layout layout)
{
#if defined(__AVX2__)
	struct vireo_vq_slot *slot = vq->slot;
	uint32_t id = vq->inorder_next, k, i = 0;
	bool last;

	if (vq->size - vq->nfree - vq->staged_descs != vq->in_flight)
		return vireo_vq_inorder_take(vq, cookies, lens, n, layout);
	k = vireo_vq_inorder_batch1(vq, n, &last);
	for (; i + VIREO_VEC_BATCH <= k && id + i + VIREO_VEC_BATCH <= vq->size;
	     i += VIREO_VEC_BATCH) {
		__m256i *s = (__m256i *)&slot[id + i];
		/* slots i, i+1 | i+2, i+3: cookie and the rest each */
		__m256i a = _mm256_loadu_si256(s), b = _mm256_loadu_si256(s + 1);

		_mm256_storeu_si256((__m256i *)&cookies[i],
			_mm256_permute4x64_epi64(_mm256_unpacklo_epi64(a, b),
						 _MM_SHUFFLE(3, 1, 2, 0)));
		if (lens != NULL)
			_mm_storeu_si128((__m128i *)&lens[i],
				_mm256_castsi256_si128(
				_mm256_permutevar8x32_epi32(
				_mm256_unpackhi_epi64(a, b),
				_mm256_setr_epi32(0, 4, 2, 6, 1, 3, 5, 7))));
		_mm256_storeu_si256(s, _mm256_blend_epi32(a,
			_mm256_setzero_si256(), 0x33));
		_mm256_storeu_si256(s + 1, _mm256_blend_epi32(b,
			_mm256_setzero_si256(), 0x33));
	}
	if (i < k)
		vireo_vq_slots_take(slot, id + i >= vq->size ?
				    id + i - vq->size : id + i, vq->size,
				    cookies + i, VIREO_AT(lens, i), k - i);
	vireo_vq_inorder_took1(vq, k, last, lens, layout);
	return (uint16_t)k;
#else
	return vireo_vq_inorder_take(vq, cookies, lens, n, layout);
#endif
}

/*
 * Vector twin of vireo_vq_reclaim_inorder.  Batches of four one-buffer
 * entries go the vector way; anything else (a batch entry standing for
 * several buffers, entries not seen yet, the ring's end) goes through
 * the scalar state machine, which gives the same answer in parts as in
 * one call as long as the parts share may_load.
 */
VIREO_HOT int
vireo_vq_reclaim_inorder_vec(struct vireo_vq *vq, void **cookies,
			     uint32_t *lens, uint16_t n,
			     const enum vireo_vq_layout layout)
{
	bool may_load = true;
	uint16_t done = 0, want;
	int k;

	while (done < n) {
		if (!vq->batch_pending && n - done >= VIREO_VEC_BATCH &&
		    vireo_vq_take4_io(vq, cookies + done, VIREO_AT(lens, done),
				      layout)) {
			done += VIREO_VEC_BATCH;
			continue;
		}
		if (vq->batch_pending) {
			/* an open batch is handed out whole */
			done += vireo_vq_inorder_take_vec(vq, cookies + done,
				VIREO_AT(lens, done), n - done, layout);
			continue;
		}
		/* four entries the scalar way, then the vector way again */
		want = VIREO_VEC_MIN(n - done, VIREO_VEC_BATCH);
		k = vireo_vq_reclaim_inorder_part(vq, cookies + done,
						  VIREO_AT(lens, done), want, &may_load,
						  layout);
		if (k <= 0)
			return done > 0 ? done : k;
		done += k;
		if (k < want)
			break;
	}
	return done;
}

/* Vector twin of vireo_vq_get_used_burst_mode. */
VIREO_HOT int
vireo_vq_get_used_burst_vec_mode(struct vireo_vq *vq, void **cookies,
				 uint32_t *lens, uint16_t n,
				 const enum vireo_vq_layout layout,
				 const bool in_order)
{
	if (VIREO_UNLIKELY(vq->broken))
		return VIREO_VQ_EBROKEN;
	if (in_order)
		return vireo_vq_reclaim_inorder_vec(vq, cookies, lens, n,
						    layout);
	return vireo_vq_reclaim_vec(vq, cookies, lens, n, layout);
}

/* Vector twin of vireo_vq_get_used_burst_layout. */
VIREO_HOT int
vireo_vq_get_used_burst_vec_layout(struct vireo_vq *vq, void **cookies,
				   uint32_t *lens, uint16_t n,
				   const enum vireo_vq_layout layout)
{
	return vireo_vq_get_used_burst_vec_mode(vq, cookies, lens, n, layout,
		vq->options & VIREO_VQ_OPT_IN_ORDER);
}

static inline int
vireo_vq_get_used_burst_vec(struct vireo_vq *vq, void **cookies,
			    uint32_t *lens, uint16_t n)
{
	return vireo_vq_get_used_burst_vec_layout(vq, cookies, lens, n,
						  vq->layout);
}

/*
 * Four adds of a run (vireo_vq_run_add four times): false, nothing
 * done, when the four cannot go at once; see vireo_vq_run_add4_packed.
 */
VIREO_HOT bool
vireo_vq_run_add4(struct vireo_vq_run *run, __m256i addrs, __m128i lens,
		  uint16_t flags, void *const *cookies,
		  const enum vireo_vq_layout layout, const bool in_order,
		  const bool first)
{
	bool writable = flags & VIRTQ_DESC_F_WRITE;

	return layout == VIREO_VQ_SPLIT ?
		vireo_vq_run_add4_split(run, addrs, lens, flags, writable,
					cookies, in_order) :
		vireo_vq_run_add4_packed(run, addrs, lens, flags, writable,
					 cookies, in_order, first);
}

/* Vector twin of vireo_vq_add1_burst_layout. */
VIREO_HOT uint16_t
vireo_vq_add1_burst_vec_layout(struct vireo_vq *vq,
			       const struct vireo_buf *bufs,
			       void *const *cookies, uint16_t n,
			       uint16_t flags,
			       const enum vireo_vq_layout layout)
{
	bool in_order = vq->options & VIREO_VQ_OPT_IN_ORDER;
	bool writable = flags & VIRTQ_DESC_F_WRITE;
	struct vireo_vq_run run;
	uint16_t i = 0;

	n = vireo_vq_run_begin(vq, &run, n, layout);
	while (i < n && VIREO_LIKELY(cookies[i] != NULL)) {
#if defined(__AVX2__)
		if (n - i >= VIREO_VEC_BATCH && vireo_vec_cookies4(cookies + i)) {
			__m256i addrs = _mm256_setr_epi64x(bufs[i].addr,
				bufs[i + 1].addr, bufs[i + 2].addr,
				bufs[i + 3].addr);
			__m128i lens = _mm_setr_epi32(bufs[i].len,
				bufs[i + 1].len, bufs[i + 2].len,
				bufs[i + 3].len);

			if (vireo_vq_run_add4(&run, addrs, lens, flags,
					      cookies + i, layout, in_order,
					      i == 0)) {
				i += VIREO_VEC_BATCH;
				continue;
			}
		}
#endif
		/* the ring's end or a NULL cookie inside the four: one by
		 * one, as the scalar loop adds them */
		vireo_vq_run_add(&run, bufs[i].addr, bufs[i].len, flags,
				 writable ? bufs[i].len : 0, cookies[i],
				 layout, in_order, i == 0);
		i++;
	}
	vireo_vq_run_end(vq, &run, layout, in_order);
	return i;
}

static inline uint16_t
vireo_vq_add1_burst_vec(struct vireo_vq *vq, const struct vireo_buf *bufs,
			void *const *cookies, uint16_t n, uint16_t flags)
{
	return vireo_vq_add1_burst_vec_layout(vq, bufs, cookies, n, flags,
					      vq->layout);
}

#endif /* VIREO_VRING_VEC_H */
