/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The Vireo Authors
 */

#ifndef VIREO_VHOST_USER_H
#define VIREO_VHOST_USER_H

/*
 * vhost-user frontend: the protocol spoken on the UNIX socket between the
 * virtio-user transport (frontend) and a vhost-user backend such as
 * DPDK's librte_vhost. No ethdev dependency; the PMD drives it.
 *
 * Every reply the backend sends is checked before use. Once a reply was
 * malformed or the peer went away, the byte stream cannot be trusted, so
 * the connection is closed and later requests fail with -ENOTCONN until
 * the caller reconnects.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Log type for this module; the PMD registers pmd.net.vireo.user. */
extern int vireo_logtype_user;

/* Request ids (frontend to backend), from the vhost-user specification. */
#define VIREO_VHOST_USER_GET_FEATURES		1
#define VIREO_VHOST_USER_SET_FEATURES		2
#define VIREO_VHOST_USER_SET_OWNER		3
#define VIREO_VHOST_USER_RESET_OWNER		4
#define VIREO_VHOST_USER_SET_MEM_TABLE		5
#define VIREO_VHOST_USER_SET_VRING_NUM		8
#define VIREO_VHOST_USER_SET_VRING_ADDR		9
#define VIREO_VHOST_USER_SET_VRING_BASE		10
#define VIREO_VHOST_USER_GET_VRING_BASE		11
#define VIREO_VHOST_USER_SET_VRING_KICK		12
#define VIREO_VHOST_USER_SET_VRING_CALL		13
#define VIREO_VHOST_USER_SET_VRING_ERR		14
#define VIREO_VHOST_USER_GET_PROTOCOL_FEATURES	15
#define VIREO_VHOST_USER_SET_PROTOCOL_FEATURES	16
#define VIREO_VHOST_USER_GET_QUEUE_NUM		17
#define VIREO_VHOST_USER_SET_VRING_ENABLE	18
#define VIREO_VHOST_USER_NET_SET_MTU		20
#define VIREO_VHOST_USER_SET_STATUS		39
#define VIREO_VHOST_USER_GET_STATUS		40

/* Header flags word. */
#define VIREO_VHOST_USER_VERSION_MASK		0x3u
#define VIREO_VHOST_USER_VERSION		0x1u
#define VIREO_VHOST_USER_FLAG_REPLY		(1u << 2)
#define VIREO_VHOST_USER_FLAG_NEED_REPLY	(1u << 3)

/* Virtio feature bit that announces vhost-user protocol features. */
#define VIREO_VHOST_USER_F_PROTOCOL_FEATURES	30

/* Protocol feature bits (GET/SET_PROTOCOL_FEATURES). */
#define VIREO_VHOST_USER_PROTOCOL_F_MQ		0
#define VIREO_VHOST_USER_PROTOCOL_F_LOG_SHMFD	1
#define VIREO_VHOST_USER_PROTOCOL_F_RARP	2
#define VIREO_VHOST_USER_PROTOCOL_F_REPLY_ACK	3
#define VIREO_VHOST_USER_PROTOCOL_F_NET_MTU	4
#define VIREO_VHOST_USER_PROTOCOL_F_BACKEND_REQ	5
#define VIREO_VHOST_USER_PROTOCOL_F_CONFIG	9
#define VIREO_VHOST_USER_PROTOCOL_F_STATUS	16

/* The protocol features this frontend knows how to use. */
#define VIREO_VHOST_USER_PROTOCOL_FEATURES_SUPPORTED \
	((1ULL << VIREO_VHOST_USER_PROTOCOL_F_MQ) | \
	 (1ULL << VIREO_VHOST_USER_PROTOCOL_F_REPLY_ACK) | \
	 (1ULL << VIREO_VHOST_USER_PROTOCOL_F_NET_MTU) | \
	 (1ULL << VIREO_VHOST_USER_PROTOCOL_F_STATUS))

/* SET_MEM_TABLE carries at most this many regions (and as many fds). */
#define VIREO_VHOST_USER_MAX_REGIONS		8

/* Bytes before the payload: request, flags, size (three u32). */
#define VIREO_VHOST_USER_HDR_SIZE		12u

/* Largest payload any reply we accept may carry (all are one u64). */
#define VIREO_VHOST_USER_MAX_REPLY_PAYLOAD	8u

/* Default receive timeout for a reply. */
#define VIREO_VHOST_USER_DEFAULT_TIMEOUT_MS	5000

/* SET_VRING_KICK/CALL/ERR payload: ring index bits and the no-fd bit. */
#define VIREO_VHOST_USER_VRING_IDX_MASK		0xffu
#define VIREO_VHOST_USER_VRING_NOFD		(1u << 8)

/* Packed rings: the wrap counter travels in bit 15 of a 16-bit base. */
#define VIREO_VHOST_USER_PACKED_WRAP_BIT	(1u << 15)

/*
 * Error codes, returned negated. They sit above the errno range so a
 * caller can tell a protocol violation from a system call failure.
 * System conditions use plain negative errno values:
 *   -EAGAIN        nothing to accept / connect backlog full, retry later
 *   -ECONNREFUSED  no backend listening (also when the path is missing)
 *   -ENOTCONN      no connection (never made, or closed after an error)
 *   -EISCONN       already connected
 */
enum vireo_vhost_user_error {
	VIREO_VHOST_USER_E_BASE = 0x1000,
	/* Peer closed the socket or reset it (EOF, EPIPE, ECONNRESET). */
	VIREO_VHOST_USER_E_DISCONNECTED,
	/* No complete reply within the receive timeout. */
	VIREO_VHOST_USER_E_TIMEOUT,
	/* Fewer bytes than a message header. */
	VIREO_VHOST_USER_E_SHORT_HEADER,
	/* Version field in flags is not 1. */
	VIREO_VHOST_USER_E_BAD_VERSION,
	/* REPLY flag missing, or NEED_REPLY set, in a reply. */
	VIREO_VHOST_USER_E_NOT_REPLY,
	/* Reply is for another request than the one we sent. */
	VIREO_VHOST_USER_E_WRONG_REQUEST,
	/* Header size differs from what this request's reply must be. */
	VIREO_VHOST_USER_E_BAD_SIZE,
	/* Fewer payload bytes than the header announces. */
	VIREO_VHOST_USER_E_TRUNCATED,
	/* More bytes than header plus payload. */
	VIREO_VHOST_USER_E_TRAILING_BYTES,
	/* File descriptors attached to a reply that carries none. */
	VIREO_VHOST_USER_E_UNEXPECTED_FDS,
	/* REPLY_ACK with a non-zero status: the backend refused. */
	VIREO_VHOST_USER_E_NACK,
	/* GET_VRING_BASE reply names another ring. */
	VIREO_VHOST_USER_E_WRONG_INDEX,
	/* Features the caller requires are not offered by the backend. */
	VIREO_VHOST_USER_E_FEATURES,
	/* More memory regions than one SET_MEM_TABLE can carry. */
	VIREO_VHOST_USER_E_TOO_MANY_REGIONS,
	/* A reply to a request we never expect a reply for. */
	VIREO_VHOST_USER_E_NO_REPLY_EXPECTED,
	/* A well-formed reply carrying an impossible value. */
	VIREO_VHOST_USER_E_BAD_VALUE,
	VIREO_VHOST_USER_E_END,
};

/* A reply after validation. */
struct vireo_vhost_user_msg {
	uint32_t request;
	uint32_t flags;
	uint32_t size;
	union {
		uint64_t u64;
		struct {
			uint32_t index;
			uint32_t num;
		} state;
	} payload;
};

/* One SET_MEM_TABLE region; the fd is borrowed, never closed here. */
struct vireo_vhost_user_mem_region {
	uint64_t guest_phys_addr;
	uint64_t memory_size;
	uint64_t userspace_addr;
	uint64_t mmap_offset;
	int fd;
};

struct vireo_vhost_user_mem_table {
	uint32_t nregions;
	struct vireo_vhost_user_mem_region regions[VIREO_VHOST_USER_MAX_REGIONS];
};

/* One frontend connection. Embed it; use init before anything else. */
struct vireo_vhost_user {
	char path[108];			/* socket path (sun_path size) */
	int sock_fd;			/* connected socket or -1 */
	int listen_fd;			/* server mode listener or -1 */
	int timeout_ms;			/* per reply receive timeout */
	bool server;			/* we created path and listen on it */
	uint64_t features;		/* last virtio features sent */
	uint64_t protocol_features;	/* negotiated protocol features */
};

/* Prepare conn for path; timeout_ms <= 0 selects the default. */
int vireo_vhost_user_init(struct vireo_vhost_user *conn, const char *path,
		int timeout_ms);

/* Client mode: one non-blocking connect attempt. 0 when connected. */
int vireo_vhost_user_try_connect(struct vireo_vhost_user *conn);

/* Server mode: create the listening socket at path (stale socket removed). */
int vireo_vhost_user_listen(struct vireo_vhost_user *conn);

/* Server mode: accept a pending backend; -EAGAIN when none is waiting. */
int vireo_vhost_user_try_accept(struct vireo_vhost_user *conn);

/* True while a backend connection is open. */
bool vireo_vhost_user_connected(const struct vireo_vhost_user *conn);

/*
 * Non-blocking liveness check for an idle connection (link status, the
 * PMD's interrupt handler on sock_fd): 0 while the peer is there,
 * -VIREO_VHOST_USER_E_DISCONNECTED (connection dropped) once it hung
 * up, -VIREO_VHOST_USER_E_NOT_REPLY (dropped too) if it sent bytes
 * nobody asked for, -ENOTCONN without a connection.
 */
int vireo_vhost_user_check_peer(struct vireo_vhost_user *conn);

/* Drop the backend connection, keep the listener (server mode). */
void vireo_vhost_user_disconnect(struct vireo_vhost_user *conn);

/* Drop everything; in server mode also remove the socket file. */
void vireo_vhost_user_close(struct vireo_vhost_user *conn);

int vireo_vhost_user_set_owner(struct vireo_vhost_user *conn);
int vireo_vhost_user_get_features(struct vireo_vhost_user *conn,
		uint64_t *features);
int vireo_vhost_user_set_features(struct vireo_vhost_user *conn,
		uint64_t features);
int vireo_vhost_user_get_protocol_features(struct vireo_vhost_user *conn,
		uint64_t *features);
int vireo_vhost_user_set_protocol_features(struct vireo_vhost_user *conn,
		uint64_t features);

/*
 * Feature negotiation in the order the spec wants: GET_FEATURES; when the
 * backend offers PROTOCOL_FEATURES, GET/SET_PROTOCOL_FEATURES with
 * (offered & wanted_protocol & supported); then SET_FEATURES with
 * (offered & wanted), plus the PROTOCOL_FEATURES bit when offered.
 * Bits of required missing from the offer fail with E_FEATURES before
 * anything is set. Results are written where non-NULL.
 */
int vireo_vhost_user_negotiate(struct vireo_vhost_user *conn,
		uint64_t wanted, uint64_t required, uint64_t wanted_protocol,
		uint64_t *negotiated, uint64_t *negotiated_protocol);

/* GET_QUEUE_NUM (needs protocol feature MQ): queue count of the backend. */
int vireo_vhost_user_get_queue_num(struct vireo_vhost_user *conn,
		uint64_t *queue_num);

int vireo_vhost_user_set_mem_table(struct vireo_vhost_user *conn,
		const struct vireo_vhost_user_mem_table *table);

int vireo_vhost_user_set_vring_num(struct vireo_vhost_user *conn,
		uint32_t queue_index, uint32_t num);
int vireo_vhost_user_set_vring_addr(struct vireo_vhost_user *conn,
		uint32_t queue_index, uint64_t desc_addr,
		uint64_t driver_area_addr, uint64_t device_area_addr,
		uint64_t log_addr);
int vireo_vhost_user_set_vring_base(struct vireo_vhost_user *conn,
		uint32_t queue_index, uint32_t base);

/*
 * NUM, ADDR and BASE for one ring. Split: driver area = avail ring,
 * device area = used ring, base = next avail index. Packed: driver area
 * = driver event suppression, device area = device event suppression,
 * base = vireo_vhost_user_packed_base(). log_addr is 0 without logging.
 */
int vireo_vhost_user_set_vring(struct vireo_vhost_user *conn,
		uint32_t queue_index, uint32_t num, uint64_t desc_addr,
		uint64_t driver_area_addr, uint64_t device_area_addr,
		uint64_t log_addr, uint32_t base);

/*
 * GET_VRING_BASE: stops the ring in the backend. Low 16 bits: next avail
 * index (packed: bit 15 = avail wrap counter); newer backends put the
 * used index (with its wrap bit) in the high 16 bits, librte_vhost 22.11
 * leaves them zero.
 */
int vireo_vhost_user_get_vring_base(struct vireo_vhost_user *conn,
		uint32_t queue_index, uint32_t *base);

/* Eventfds made by the caller; fd < 0 sends the no-fd (polling) form. */
int vireo_vhost_user_set_vring_kick(struct vireo_vhost_user *conn,
		uint32_t queue_index, int fd);
int vireo_vhost_user_set_vring_call(struct vireo_vhost_user *conn,
		uint32_t queue_index, int fd);
int vireo_vhost_user_set_vring_err(struct vireo_vhost_user *conn,
		uint32_t queue_index, int fd);

int vireo_vhost_user_set_vring_enable(struct vireo_vhost_user *conn,
		uint32_t queue_index, bool enable);

/* NET_SET_MTU (needs protocol feature NET_MTU). */
int vireo_vhost_user_set_mtu(struct vireo_vhost_user *conn, uint16_t mtu);

/* GET/SET_STATUS (need protocol feature STATUS); status is 8 bits. */
int vireo_vhost_user_get_status(struct vireo_vhost_user *conn,
		uint8_t *status);
int vireo_vhost_user_set_status(struct vireo_vhost_user *conn,
		uint8_t status);

/*
 * Validate one reply: bytes[0, len) is header plus payload as received,
 * nfds the number of descriptors that came with it. No I/O, no logging,
 * no global state: safe to fuzz. 0 and *out filled, or a negated
 * vireo_vhost_user_error. A REPLY_ACK status is returned in out, not
 * judged here.
 */
int vireo_vhost_user_parse_reply(const void *bytes, size_t len, int nfds,
		uint32_t expected_request, struct vireo_vhost_user_msg *out);

/* Text for any value these functions return (negative errno included). */
const char *vireo_vhost_user_strerror(int err);

/* Request id to its name, "UNKNOWN" for others. */
const char *vireo_vhost_user_request_name(uint32_t request);

/*
 * Space separated names of the set bits, e.g. "VERSION_1 RING_PACKED";
 * unknown bits print as BIT<n>. Returns the length the full text needs
 * (like snprintf); buf is always terminated when len > 0.
 */
int vireo_virtio_net_feature_names(uint64_t features, char *buf, size_t len);
int vireo_vhost_user_protocol_feature_names(uint64_t features, char *buf,
		size_t len);

/* Packed ring base: 15-bit index plus wrap counter in bit 15. */
static inline uint32_t
vireo_vhost_user_packed_base(uint16_t index, bool wrap_counter)
{
	return (index & 0x7fffu) |
		(wrap_counter ? VIREO_VHOST_USER_PACKED_WRAP_BIT : 0);
}

#endif /* VIREO_VHOST_USER_H */
