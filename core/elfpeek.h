/*
 * elfpeek.h - read a plugin's frozen descriptor fields from its ELF file, without loading it.
 *
 * This lets the loader refuse a wrong-magic, wrong-ABI or wrong-layout plugin before any of its
 * code (constructors included) runs. Only native ELF64/ELF32 shared objects are understood.
 */
#ifndef NORC_ELFPEEK_H
#define NORC_ELFPEEK_H

#include <stddef.h>
#include <stdint.h>

struct norc_elf_desc {
	uint32_t magic;
	uint16_t abi_major, abi_minor;
	uint32_t struct_size;
	uint32_t build_sig;
	uint32_t kind;
	uint32_t flags;
	uint64_t sym_size; /* size of the symbol in the file: struct_size must fit in it */
};

/* Find the exported symbol `symbol` in the .so at path and copy its first 24 bytes into *out.
 * NORC_ENOTFOUND when the file does not export it; NORC_EINVAL when the file is not a shared
 * object for this machine (err says which). */
int norc_elfpeek(const char *path, const char *symbol, struct norc_elf_desc *out, char *err,
		 size_t errlen);

#endif
