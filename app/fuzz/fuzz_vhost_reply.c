/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The Vireo Authors
 */

/*
 * libFuzzer target: the vhost-user reply parser fed arbitrary bytes.
 * Built by devtools/fuzz.sh (clang, libFuzzer) and by meson as a corpus
 * replay test (app/fuzz/meson.build). The first two input bytes choose
 * the expected request and the count of descriptors that came with the
 * reply; the rest is the reply as received.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "vhost_user.h"

int vireo_logtype_user;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vireo_vhost_user_msg msg;
	uint32_t expected;
	int nfds, ret;

	if (size < 2)
		return 0;
	/* Ids 0..63 cover every request, known or not. */
	expected = data[0] & 0x3f;
	nfds = data[1] & 0x0f;
	ret = vireo_vhost_user_parse_reply(data + 2, size - 2, nfds, expected,
		&msg);
	/* Accepted replies are exactly header plus one u64. */
	if (ret == 0 && (size - 2 != VIREO_VHOST_USER_HDR_SIZE + 8 ||
			 msg.request != expected || nfds != 0))
		abort();
	if (ret < 0 && (-ret <= VIREO_VHOST_USER_E_BASE ||
			-ret >= VIREO_VHOST_USER_E_END))
		abort();
	return 0;
}
