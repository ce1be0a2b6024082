/*
 * abi.c - the plugin ABI, pinned: the size and every field offset of each public struct of
 * the SDK (core/include/norc/), checked at compile time on the LP64 little-endian layout Norc
 * builds for. A change that moves a field or changes a size fails the build here. Appending
 * a field (a minor ABI bump, docs/ABI.md) changes a size: update the line below on purpose,
 * together with NORC_ABI_MINOR and the table in docs/ABI.md. Moving or removing one is a
 * major bump. Generated once from offsetof(); nothing here runs.
 */
#include <norc/backup.h>
#include <norc/plugin.h>
#include <norc/queue.h>
#include <norc/task.h>

#include <stddef.h>

#if NORC_ABI_MAJOR != 1 || NORC_ABI_MINOR != 4
#error "the plugin ABI version changed: update the sizes below on purpose (see above)"
#endif

#if __SIZEOF_POINTER__ == 8 && __SIZEOF_LONG__ == 8 && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
_Static_assert(sizeof(struct norc_plugin) == 72, "struct norc_plugin changed size");
_Static_assert(offsetof(struct norc_plugin, magic) == 0, "norc_plugin.magic moved");
_Static_assert(offsetof(struct norc_plugin, abi_major) == 4, "norc_plugin.abi_major moved");
_Static_assert(offsetof(struct norc_plugin, abi_minor) == 6, "norc_plugin.abi_minor moved");
_Static_assert(offsetof(struct norc_plugin, struct_size) == 8, "norc_plugin.struct_size moved");
_Static_assert(offsetof(struct norc_plugin, build_sig) == 12, "norc_plugin.build_sig moved");
_Static_assert(offsetof(struct norc_plugin, kind) == 16, "norc_plugin.kind moved");
_Static_assert(offsetof(struct norc_plugin, flags) == 20, "norc_plugin.flags moved");
_Static_assert(offsetof(struct norc_plugin, name) == 24, "norc_plugin.name moved");
_Static_assert(offsetof(struct norc_plugin, version) == 32, "norc_plugin.version moved");
_Static_assert(offsetof(struct norc_plugin, description) == 40, "norc_plugin.description moved");
_Static_assert(offsetof(struct norc_plugin, init) == 48, "norc_plugin.init moved");
_Static_assert(offsetof(struct norc_plugin, fini) == 56, "norc_plugin.fini moved");
_Static_assert(offsetof(struct norc_plugin, ops) == 64, "norc_plugin.ops moved");
_Static_assert(sizeof(struct norc_host_api) == 168, "struct norc_host_api changed size");
_Static_assert(offsetof(struct norc_host_api, struct_size) == 0, "norc_host_api.struct_size moved");
_Static_assert(offsetof(struct norc_host_api, abi_major) == 4, "norc_host_api.abi_major moved");
_Static_assert(offsetof(struct norc_host_api, abi_minor) == 6, "norc_host_api.abi_minor moved");
_Static_assert(offsetof(struct norc_host_api, log) == 8, "norc_host_api.log moved");
_Static_assert(offsetof(struct norc_host_api, alloc) == 16, "norc_host_api.alloc moved");
_Static_assert(offsetof(struct norc_host_api, strdup) == 24, "norc_host_api.strdup moved");
_Static_assert(offsetof(struct norc_host_api, free) == 32, "norc_host_api.free moved");
_Static_assert(offsetof(struct norc_host_api, strerror) == 40, "norc_host_api.strerror moved");
_Static_assert(offsetof(struct norc_host_api, now_us) == 48, "norc_host_api.now_us moved");
_Static_assert(offsetof(struct norc_host_api, param_get) == 56, "norc_host_api.param_get moved");
_Static_assert(offsetof(struct norc_host_api, param_count) == 64, "norc_host_api.param_count moved");
_Static_assert(offsetof(struct norc_host_api, param_key) == 72, "norc_host_api.param_key moved");
_Static_assert(offsetof(struct norc_host_api, db) == 80, "norc_host_api.db moved");
_Static_assert(offsetof(struct norc_host_api, db_clause) == 88, "norc_host_api.db_clause moved");
_Static_assert(offsetof(struct norc_host_api, db_prepare) == 96, "norc_host_api.db_prepare moved");
_Static_assert(offsetof(struct norc_host_api, db_bind_int64) == 104, "norc_host_api.db_bind_int64 moved");
_Static_assert(offsetof(struct norc_host_api, db_bind_text) == 112, "norc_host_api.db_bind_text moved");
_Static_assert(offsetof(struct norc_host_api, db_step) == 120, "norc_host_api.db_step moved");
_Static_assert(offsetof(struct norc_host_api, db_column_int64) == 128, "norc_host_api.db_column_int64 moved");
_Static_assert(offsetof(struct norc_host_api, db_column_text) == 136, "norc_host_api.db_column_text moved");
_Static_assert(offsetof(struct norc_host_api, db_changes) == 144, "norc_host_api.db_changes moved");
_Static_assert(offsetof(struct norc_host_api, db_finalize) == 152, "norc_host_api.db_finalize moved");
_Static_assert(offsetof(struct norc_host_api, db_errmsg) == 160, "norc_host_api.db_errmsg moved");
_Static_assert(sizeof(struct norc_task_ctx) == 72, "struct norc_task_ctx changed size");
_Static_assert(offsetof(struct norc_task_ctx, struct_size) == 0, "norc_task_ctx.struct_size moved");
_Static_assert(offsetof(struct norc_task_ctx, instance_id) == 8, "norc_task_ctx.instance_id moved");
_Static_assert(offsetof(struct norc_task_ctx, task_id) == 16, "norc_task_ctx.task_id moved");
_Static_assert(offsetof(struct norc_task_ctx, task_name) == 24, "norc_task_ctx.task_name moved");
_Static_assert(offsetof(struct norc_task_ctx, fire_time_us) == 32, "norc_task_ctx.fire_time_us moved");
_Static_assert(offsetof(struct norc_task_ctx, params) == 40, "norc_task_ctx.params moved");
_Static_assert(offsetof(struct norc_task_ctx, log_path) == 48, "norc_task_ctx.log_path moved");
_Static_assert(offsetof(struct norc_task_ctx, tmp_dir) == 56, "norc_task_ctx.tmp_dir moved");
_Static_assert(offsetof(struct norc_task_ctx, timeout_s) == 64, "norc_task_ctx.timeout_s moved");
_Static_assert(offsetof(struct norc_task_ctx, attempt) == 68, "norc_task_ctx.attempt moved");
_Static_assert(sizeof(struct norc_exec_plan) == 48, "struct norc_exec_plan changed size");
_Static_assert(offsetof(struct norc_exec_plan, struct_size) == 0, "norc_exec_plan.struct_size moved");
_Static_assert(offsetof(struct norc_exec_plan, argv) == 8, "norc_exec_plan.argv moved");
_Static_assert(offsetof(struct norc_exec_plan, envp) == 16, "norc_exec_plan.envp moved");
_Static_assert(offsetof(struct norc_exec_plan, cwd) == 24, "norc_exec_plan.cwd moved");
_Static_assert(offsetof(struct norc_exec_plan, preamble) == 32, "norc_exec_plan.preamble moved");
_Static_assert(offsetof(struct norc_exec_plan, path) == 40, "norc_exec_plan.path moved");
_Static_assert(sizeof(struct norc_task_result) == 40, "struct norc_task_result changed size");
_Static_assert(offsetof(struct norc_task_result, struct_size) == 0, "norc_task_result.struct_size moved");
_Static_assert(offsetof(struct norc_task_result, status) == 4, "norc_task_result.status moved");
_Static_assert(offsetof(struct norc_task_result, exit_code) == 8, "norc_task_result.exit_code moved");
_Static_assert(offsetof(struct norc_task_result, term_signal) == 12, "norc_task_result.term_signal moved");
_Static_assert(offsetof(struct norc_task_result, timed_out) == 16, "norc_task_result.timed_out moved");
_Static_assert(offsetof(struct norc_task_result, started_us) == 24, "norc_task_result.started_us moved");
_Static_assert(offsetof(struct norc_task_result, ended_us) == 32, "norc_task_result.ended_us moved");
_Static_assert(sizeof(struct norc_task_ops) == 56, "struct norc_task_ops changed size");
_Static_assert(offsetof(struct norc_task_ops, struct_size) == 0, "norc_task_ops.struct_size moved");
_Static_assert(offsetof(struct norc_task_ops, validate) == 8, "norc_task_ops.validate moved");
_Static_assert(offsetof(struct norc_task_ops, prepare) == 16, "norc_task_ops.prepare moved");
_Static_assert(offsetof(struct norc_task_ops, plan_free) == 24, "norc_task_ops.plan_free moved");
_Static_assert(offsetof(struct norc_task_ops, run_child) == 32, "norc_task_ops.run_child moved");
_Static_assert(offsetof(struct norc_task_ops, finally) == 40, "norc_task_ops.finally moved");
_Static_assert(offsetof(struct norc_task_ops, revision) == 48, "norc_task_ops.revision moved");
_Static_assert(sizeof(struct norc_queue_ref) == 32, "struct norc_queue_ref changed size");
_Static_assert(offsetof(struct norc_queue_ref, struct_size) == 0, "norc_queue_ref.struct_size moved");
_Static_assert(offsetof(struct norc_queue_ref, id) == 8, "norc_queue_ref.id moved");
_Static_assert(offsetof(struct norc_queue_ref, name) == 16, "norc_queue_ref.name moved");
_Static_assert(offsetof(struct norc_queue_ref, params) == 24, "norc_queue_ref.params moved");
_Static_assert(sizeof(struct norc_queue_ops) == 104, "struct norc_queue_ops changed size");
_Static_assert(offsetof(struct norc_queue_ops, flags) == 72, "norc_queue_ops.flags moved");
_Static_assert(offsetof(struct norc_queue_ops, ack) == 80, "norc_queue_ops.ack moved");
_Static_assert(offsetof(struct norc_queue_ops, nack) == 88, "norc_queue_ops.nack moved");
_Static_assert(offsetof(struct norc_queue_ops, touch) == 96, "norc_queue_ops.touch moved");
_Static_assert(offsetof(struct norc_queue_ops, struct_size) == 0, "norc_queue_ops.struct_size moved");
_Static_assert(offsetof(struct norc_queue_ops, validate) == 8, "norc_queue_ops.validate moved");
_Static_assert(offsetof(struct norc_queue_ops, open) == 16, "norc_queue_ops.open moved");
_Static_assert(offsetof(struct norc_queue_ops, close) == 24, "norc_queue_ops.close moved");
_Static_assert(offsetof(struct norc_queue_ops, push) == 32, "norc_queue_ops.push moved");
_Static_assert(offsetof(struct norc_queue_ops, pop) == 40, "norc_queue_ops.pop moved");
_Static_assert(offsetof(struct norc_queue_ops, peek) == 48, "norc_queue_ops.peek moved");
_Static_assert(offsetof(struct norc_queue_ops, count) == 56, "norc_queue_ops.count moved");
_Static_assert(offsetof(struct norc_queue_ops, clear) == 64, "norc_queue_ops.clear moved");
_Static_assert(sizeof(struct norc_backup_ops) == 56, "struct norc_backup_ops changed size");
_Static_assert(offsetof(struct norc_backup_ops, struct_size) == 0, "norc_backup_ops.struct_size moved");
_Static_assert(offsetof(struct norc_backup_ops, open) == 8, "norc_backup_ops.open moved");
_Static_assert(offsetof(struct norc_backup_ops, close) == 16, "norc_backup_ops.close moved");
_Static_assert(offsetof(struct norc_backup_ops, put) == 24, "norc_backup_ops.put moved");
_Static_assert(offsetof(struct norc_backup_ops, get) == 32, "norc_backup_ops.get moved");
_Static_assert(offsetof(struct norc_backup_ops, exists) == 40, "norc_backup_ops.exists moved");
_Static_assert(offsetof(struct norc_backup_ops, del) == 48, "norc_backup_ops.del moved");
#endif
