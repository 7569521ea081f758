/* basic.publish framed by the link itself, many messages to one send(2)
 * (amqp_frames.c). */
#ifndef SB_AMQP_FRAMES_H
#define SB_AMQP_FRAMES_H

#include <amqp.h>
#include <stddef.h>
#include <stdint.h>

struct sb_amqp_fbuf {
	unsigned char *p;
	size_t len, cap;
};

/* Appends one message's frames (basic.publish, its content header, body
 * frames of at most frame_max bytes) on channel ch. 0; -ENOMEM; -EINVAL
 * when a field does not fit AMQP's sizes (b is left as it was). */
int sb_amqp_frames_publish(struct sb_amqp_fbuf *b, uint16_t ch, uint32_t frame_max,
			   amqp_basic_publish_t *m, amqp_basic_properties_t *p, const void *body,
			   size_t len);
/* Writes all of b to fd (non-blocking or not) and empties it; -errno when
 * the connection failed, part of b then possibly sent. */
int sb_amqp_frames_send(struct sb_amqp_fbuf *b, int fd);
void sb_amqp_fbuf_free(struct sb_amqp_fbuf *b);

#endif
