/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The Vireo Authors
 */

/* The SSE4.2 data path: built for it (meson), picked by vireo_select_path. */

#define VIREO_VEC_NAME sse
#include "vireo_rxtx_vec.h"
