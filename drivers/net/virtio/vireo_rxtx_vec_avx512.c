/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The Vireo Authors
 */

/* The AVX512 (F, BW, VL, DQ) data path: built for it (meson), picked by vireo_select_path. */

#define VIREO_VEC_NAME avx512
#include "vireo_rxtx_vec.h"
