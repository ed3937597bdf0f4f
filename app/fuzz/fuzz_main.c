/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The Vireo Authors
 */

/*
 * A stand-in for libFuzzer's driver, so every fuzz target also builds
 * with gcc (and the sanitize option) as a meson unit test: it replays
 * the checked-in corpus, then runs a fixed number of inputs mutated
 * from it at random (no coverage guidance: that is what the libFuzzer
 * build in devtools/fuzz.sh is for). Any failed invariant aborts.
 *
 *   fuzz_<target> [-runs=N] [-seed=N] [-max_len=N] FILE_OR_DIR...
 *
 * Prints one line per corpus folder, the number of inputs run, and
 * "1 passed, 0 failed": the replay is one test case for devtools/test.sh
 * whatever the number of inputs (a failure aborts, and counts as one).
 */

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZM_MAX_INPUTS	4096

struct fzm_input {
	uint8_t *data;
	size_t len;
};

static struct fzm_input fzm_corpus[FZM_MAX_INPUTS];
static unsigned int fzm_count;
static unsigned long fzm_runs;

/* xorshift64*: the same mutations from the same seed. */
static uint64_t
fzm_rand(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545f4914f6cdd1dull;
}

static int
fzm_load_file(const char *path)
{
	struct fzm_input *in;
	FILE *fp;
	long len;

	if (fzm_count == FZM_MAX_INPUTS)
		return 0;
	fp = fopen(path, "rb");
	if (fp == NULL)
		return -errno;
	fseek(fp, 0, SEEK_END);
	len = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	in = &fzm_corpus[fzm_count];
	/* one spare byte: malloc(0) may return NULL */
	in->data = malloc(len + 1);
	if (in->data == NULL || fread(in->data, 1, len, fp) != (size_t)len) {
		fclose(fp);
		free(in->data);
		return -EIO;
	}
	fclose(fp);
	in->len = len;
	fzm_count++;
	return 0;
}

static int
fzm_load(const char *path)
{
	char child[4096];
	struct dirent *de;
	struct stat st;
	DIR *dir;
	int rc = 0, n = 0;

	if (stat(path, &st) != 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return fzm_load_file(path);
	dir = opendir(path);
	if (dir == NULL)
		return -errno;
	while (rc == 0 && (de = readdir(dir)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(child, sizeof(child), "%s/%s", path, de->d_name);
		rc = fzm_load_file(child);
		n++;
	}
	closedir(dir);
	printf("%s: %d inputs\n", path, n);
	return rc;
}

static void
fzm_run(const uint8_t *data, size_t len)
{
	LLVMFuzzerTestOneInput(data, len);
	fzm_runs++;
}

/* One mutant of a corpus input, as libFuzzer's simplest mutators do. */
static size_t
fzm_mutate(uint64_t *s, uint8_t *out, size_t max)
{
	const struct fzm_input *a = &fzm_corpus[fzm_rand(s) % fzm_count];
	const struct fzm_input *b = &fzm_corpus[fzm_rand(s) % fzm_count];
	size_t len = a->len < max ? a->len : max, at, n, k;
	unsigned int edits = 1 + fzm_rand(s) % 8;

	memcpy(out, a->data, len);
	while (edits-- > 0) {
		switch (fzm_rand(s) % 5) {
		case 0:		/* flip a bit */
			if (len > 0)
				out[fzm_rand(s) % len] ^= 1u << (fzm_rand(s) % 8);
			break;
		case 1:		/* set a byte */
			if (len > 0)
				out[fzm_rand(s) % len] = (uint8_t)fzm_rand(s);
			break;
		case 2:		/* insert random bytes */
			n = 1 + fzm_rand(s) % 8;
			if (len + n > max)
				break;
			at = len ? fzm_rand(s) % (len + 1) : 0;
			memmove(out + at + n, out + at, len - at);
			for (k = 0; k < n; k++)
				out[at + k] = (uint8_t)fzm_rand(s);
			len += n;
			break;
		case 3:		/* erase bytes */
			if (len < 2)
				break;
			at = fzm_rand(s) % len;
			n = 1 + fzm_rand(s) % (len - at);
			memmove(out + at, out + at + n, len - at - n);
			len -= n;
			break;
		default:	/* splice the tail of another input */
			at = len ? fzm_rand(s) % len : 0;
			n = b->len < max - at ? b->len : max - at;
			memcpy(out + at, b->data, n);
			len = at + n;
			break;
		}
	}
	return len;
}

int
main(int argc, char **argv)
{
	unsigned long runs = 0, i;
	uint64_t seed = 1;
	size_t max_len = 4096, len;
	uint8_t *buf;
	int a;

	for (a = 1; a < argc; a++) {
		if (strncmp(argv[a], "-runs=", 6) == 0)
			runs = strtoul(argv[a] + 6, NULL, 0);
		else if (strncmp(argv[a], "-seed=", 6) == 0)
			seed = strtoull(argv[a] + 6, NULL, 0) | 1;
		else if (strncmp(argv[a], "-max_len=", 9) == 0)
			max_len = strtoul(argv[a] + 9, NULL, 0);
		else if (argv[a][0] == '-')
			continue;	/* a libFuzzer flag we do not need */
		else if (fzm_load(argv[a]) != 0) {
			fprintf(stderr, "cannot read %s\n", argv[a]);
			return 1;
		}
	}
	if (fzm_count == 0) {
		fprintf(stderr, "no corpus given\n");
		return 1;
	}
	for (i = 0; i < fzm_count; i++)
		fzm_run(fzm_corpus[i].data, fzm_corpus[i].len);
	buf = malloc(max_len + 1);
	if (buf == NULL)
		return 1;
	for (i = 0; i < runs; i++) {
		len = fzm_mutate(&seed, buf, max_len);
		fzm_run(buf, len);
	}
	free(buf);
	for (i = 0; i < fzm_count; i++)
		free(fzm_corpus[i].data);
	printf("%lu inputs run, no invariant failed\n1 passed, 0 failed\n",
	       fzm_runs);
	return 0;
}
