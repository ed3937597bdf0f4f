/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The Vireo Authors
 */

/* The AVX2 data path: built for it (meson), picked by vireo_select_path. */

#define VIREO_VEC_NAME avx2
#include "vireo_rxtx_vec.h"
