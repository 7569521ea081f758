/* Probes what the kernel and this process offer, for sb_bpf_plan: BTF,
 * capabilities, map types, tracepoints. Cheap, and safe without privilege:
 * where a probe needs privilege the answer comes from the kernel's BTF. */
#include "bpf_sensor.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sb_log.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

#define VMLINUX_BTF "/sys/kernel/btf/vmlinux"

static bool cap_has(const struct __user_cap_data_struct d[2], int cap)
{
	return d[cap / 32].effective & (1u << (cap % 32));
}

static void probe_caps(struct sb_bpf_probe *p)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct d[2];
	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &h, d)) {
		sb_dbg("sensor:bpf", "capget: %s", strerror(errno));
		return;
	}
	p->cap_sys_admin = cap_has(d, CAP_SYS_ADMIN);
	p->cap_bpf = cap_has(d, CAP_BPF);
	p->cap_perfmon = cap_has(d, CAP_PERFMON);
}

/* A tracepoint exists if its events directory does; when no tracefs is
 * mounted we cannot tell and let the attach decide. */
static bool tp_exists(const char *name)
{
	static const char *const roots[] = {"/sys/kernel/tracing", "/sys/kernel/debug/tracing"};
	for (size_t i = 0; i < SB_ARRAY_SIZE(roots); i++) {
		char path[256];
		snprintf(path, sizeof(path), "%s/events/sched", roots[i]);
		if (access(path, F_OK))
			continue;
		snprintf(path, sizeof(path), "%s/events/sched/%s", roots[i], name);
		return access(path, F_OK) == 0;
	}
	return true;
}

/* $SENSORBUS_BPF_MODE: choices the plan would not make on this kernel, so
 * tests can run the other code paths (raw_tp, wakeup timing) here too. */
static void forced_mode(struct sb_bpf_probe *p)
{
	const char *env = getenv("SENSORBUS_BPF_MODE");
	if (!env || !*env)
		return;
	char buf[128];
	snprintf(buf, sizeof(buf), "%s", env);
	for (char *save = NULL, *w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		if (!strcmp(w, "tp_btf"))
			p->force = SB_ATTACH_TP_BTF;
		else if (!strcmp(w, "raw_tp"))
			p->force = SB_ATTACH_RAW_TP;
		else if (!strcmp(w, "wakeup"))
			p->force_wakeup = true;
		else if (!strcmp(w, "no-walk"))
			p->force_no_walk = true;
		else
			sb_warn(
			    "sensor:bpf",
			    "SENSORBUS_BPF_MODE: ignoring '%s' (tp_btf, raw_tp, wakeup, no-walk)",
			    w);
	}
}

static bool btf_has_member(const struct btf *btf, const char *type, const char *member)
{
	int id = btf__find_by_name_kind(btf, type, BTF_KIND_STRUCT);
	if (id <= 0)
		return false;
	const struct btf_type *t = btf__type_by_id(btf, (__u32)id);
	const struct btf_member *m = btf_members(t);
	for (int i = 0; i < btf_vlen(t); i++, m++)
		if (!strcmp(btf__name_by_offset(btf, m->name_off), member))
			return true;
	return false;
}

void sb_bpf_probe_kernel(struct sb_bpf_probe *p)
{
	memset(p, 0, sizeof(*p));
	forced_mode(p);
	probe_caps(p);

	struct btf *vmlinux = NULL;
	if (access(VMLINUX_BTF, R_OK) == 0) {
		vmlinux = btf__load_vmlinux_btf();
		if (!vmlinux)
			sb_warn("sensor:bpf", "cannot parse %s: %s", VMLINUX_BTF, strerror(errno));
	}
	p->btf = vmlinux != NULL;
	if (!p->btf)
		return;

	for (int i = 0; i < SB_TP_MAX; i++) {
		char type[64];
		snprintf(type, sizeof(type), "btf_trace_%s", sb_bpf_tp_names[i]);
		if (btf__find_by_name_kind(vmlinux, type, BTF_KIND_TYPEDEF) > 0)
			p->tp_btf |= SB_TP_BIT(i);
		else if (tp_exists(sb_bpf_tp_names[i]))
			p->tp_exists |= SB_TP_BIT(i);
	}
	p->tp_exists |= p->tp_btf;
	/* run-queue waits from the kernel's sched_info (CONFIG_SCHED_INFO) */
	p->sched_info = btf_has_member(vmlinux, "task_struct", "sched_info") &&
			btf_has_member(vmlinux, "sched_info", "run_delay") &&
			btf_has_member(vmlinux, "sched_info", "pcount");
	/* the context type of SEC("iter/task") programs */
	p->iter_task = btf__find_by_name_kind(vmlinux, "bpf_iter__task", BTF_KIND_STRUCT) > 0;
	p->iter_walk = !p->force_no_walk &&
		       btf__find_by_name_kind(vmlinux, "bpf_iter_task_new", BTF_KIND_FUNC) > 0;

	if (p->cap_sys_admin || p->cap_bpf) {
		p->ringbuf = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL) == 1;
		p->task_storage = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_TASK_STORAGE, NULL) == 1;
	} else {
		/* Creating a map needs privilege; the kernel's types still tell,
		 * for sensorbus_bpf_kernel_capable. */
		p->ringbuf = btf__find_by_name_kind(vmlinux, "bpf_ringbuf", BTF_KIND_STRUCT) > 0;
	}
	btf__free(vmlinux);
}
