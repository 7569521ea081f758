/* librabbitmq as the amqp sink and the amqp sensor call it: through
 * pointers resolved when one of them first starts (include/sb_dl.h), and
 * the pieces both need (amqp_session.c). */
#ifndef SB_AMQP_LIB_H
#define SB_AMQP_LIB_H

#include <amqp.h>
#include <amqp_ssl_socket.h>
#include <amqp_tcp_socket.h>
#include <stdbool.h>
#include <sys/time.h>

#include "amqp.h"
#include "sb_dl.h"

#define SB_AMQP_FNS(X)                                                                             \
	X(amqp_basic_publish)                                                                      \
	X(amqp_channel_open)                                                                       \
	X(amqp_confirm_select)                                                                     \
	X(amqp_cstring_bytes)                                                                      \
	X(amqp_default_connection_info)                                                            \
	X(amqp_destroy_connection)                                                                 \
	X(amqp_destroy_message)                                                                    \
	X(amqp_error_string2)                                                                      \
	X(amqp_exchange_declare)                                                                   \
	X(amqp_get_rpc_reply)                                                                      \
	X(amqp_get_sockfd)                                                                         \
	X(amqp_login)                                                                              \
	X(amqp_maybe_release_buffers)                                                              \
	X(amqp_new_connection)                                                                     \
	X(amqp_parse_url)                                                                          \
	X(amqp_read_message)                                                                       \
	X(amqp_send_method)                                                                        \
	X(amqp_set_handshake_timeout)                                                              \
	X(amqp_set_rpc_timeout)                                                                    \
	X(amqp_simple_wait_frame_noblock)                                                          \
	X(amqp_socket_open_noblock)                                                                \
	X(amqp_ssl_socket_new)                                                                     \
	X(amqp_ssl_socket_set_cacert)                                                              \
	X(amqp_ssl_socket_set_key)                                                                 \
	X(amqp_ssl_socket_set_verify_hostname)                                                     \
	X(amqp_ssl_socket_set_verify_peer)                                                         \
	X(amqp_tcp_socket_new)                                                                     \
	X(amqp_empty_table)                                                                        \
	X(amqp_queue_declare)                                                                      \
	X(amqp_queue_bind)                                                                         \
	X(amqp_basic_qos)                                                                          \
	X(amqp_basic_consume)                                                                      \
	X(amqp_basic_ack)                                                                          \
	X(amqp_basic_reject)                                                                       \
	X(amqp_consume_message)                                                                    \
	X(amqp_destroy_envelope)                                                                   \
	X(amqp_data_in_buffer)                                                                     \
	X(amqp_frames_enqueued)                                                                    \
	X(amqp_simple_wait_frame)                                                                  \
	X(amqp_empty_bytes)                                                                        \
	X(amqp_encode_method)                                                                      \
	X(amqp_encode_properties)                                                                  \
	X(amqp_get_frame_max)
SB_AMQP_FNS(SB_DL_EXTERN)

/* Opens librabbitmq once; 0, or -errno with err saying why. */
int sb_amqp_lib_open(char *err, size_t errlen);
/* A reply in words ("login: broker closed the connection: 403 ..."). */
void sb_amqp_describe_reply(amqp_rpc_reply_t x, const char *what, char *err, size_t errlen);
/* The last RPC's reply was normal; else err says what went wrong. */
bool sb_amqp_reply_ok(amqp_connection_state_t c, const char *what, char *err, size_t errlen);
struct timeval sb_amqp_tv(int64_t ns);
/* Connects to t (TCP or TLS), logs in and opens channel 1, each step
 * bounded by t->connect_timeout. 0, or -errno with err naming the address
 * and the reason. */
int sb_amqp_session_open(amqp_connection_state_t *out, const struct sb_amqp_target *t, char *err,
			 size_t errlen);

#endif
