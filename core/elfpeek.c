/*
 * elfpeek.c - see elfpeek.h. Reads section headers, .dynsym and its string table with pread;
 * maps the symbol's address to a file offset through the section that contains it. Bounded
 * reads only: a malformed file yields an error, never a crash.
 */
#include "elfpeek.h"
#include "mem.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <norc/plugin.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#if UINTPTR_MAX > 0xffffffffu
typedef Elf64_Ehdr Ehdr;
typedef Elf64_Shdr Shdr;
typedef Elf64_Sym Sym;
#define NATIVE_CLASS ELFCLASS64
#else
typedef Elf32_Ehdr Ehdr;
typedef Elf32_Shdr Shdr;
typedef Elf32_Sym Sym;
#define NATIVE_CLASS ELFCLASS32
#endif

static int rd(int fd, void *buf, size_t len, uint64_t off, uint64_t fsize)
{
	if (off > fsize || len > fsize - off)
		return NORC_EINVAL;
	ssize_t n = pread(fd, buf, len, (off_t)off);
	return n == (ssize_t)len ? NORC_OK : NORC_EIO;
}

int norc_elfpeek(const char *path, const char *symbol, struct norc_elf_desc *out, char *err,
		 size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return norc_err_set(err, errlen, NORC_EIO, "cannot open: %s", strerror(errno));
	struct stat sb;
	if (fstat(fd, &sb) != 0) {
		int e = errno;
		close(fd);
		return norc_err_set(err, errlen, NORC_EIO, "cannot stat: %s", strerror(e));
	}
	int rc = NORC_OK;
	uint64_t fsize = (uint64_t)sb.st_size;
	Ehdr eh;
	Shdr *sh = NULL;
	Sym *syms = NULL;
	char *strs = NULL;
	if (rc == NORC_OK && rd(fd, &eh, sizeof(eh), 0, fsize) != NORC_OK)
		rc = norc_err_set(err, errlen, NORC_EINVAL, "not an ELF file (too short)");
	if (rc == NORC_OK && memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0)
		rc = norc_err_set(err, errlen, NORC_EINVAL, "not an ELF file (bad magic bytes)");
	if (rc == NORC_OK && (eh.e_ident[EI_CLASS] != NATIVE_CLASS ||
			      eh.e_ident[EI_DATA] != (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
							      ? ELFDATA2LSB : ELFDATA2MSB)))
		rc = norc_err_set(err, errlen, NORC_EINVAL,
				  "ELF class or byte order is not this machine's");
	if (rc == NORC_OK && eh.e_type != ET_DYN)
		rc = norc_err_set(err, errlen, NORC_EINVAL, "not a shared object (ELF type %u)",
				  (unsigned)eh.e_type);
	if (rc == NORC_OK && (eh.e_shentsize != sizeof(Shdr) || eh.e_shnum == 0 || eh.e_shnum > 4096))
		rc = norc_err_set(err, errlen, NORC_EINVAL, "ELF section table is missing or odd");
	if (rc == NORC_OK) {
		sh = norc_xcalloc(eh.e_shnum, sizeof(Shdr));
		if (rd(fd, sh, eh.e_shnum * sizeof(Shdr), eh.e_shoff, fsize) != NORC_OK)
			rc = norc_err_set(err, errlen, NORC_EINVAL, "ELF section table is truncated");
	}
	const Shdr *dynsym = NULL;
	for (unsigned i = 0; rc == NORC_OK && i < eh.e_shnum; i++)
		if (sh[i].sh_type == SHT_DYNSYM)
			dynsym = &sh[i];
	if (rc == NORC_OK && (!dynsym || dynsym->sh_link >= eh.e_shnum ||
			      dynsym->sh_entsize != sizeof(Sym) || dynsym->sh_size > (64u << 20)))
		rc = norc_err_set(err, errlen, NORC_ENOTFOUND, "no dynamic symbol table");
	size_t nsyms = 0;
	if (rc == NORC_OK) {
		const Shdr *strsec = &sh[dynsym->sh_link];
		nsyms = dynsym->sh_size / sizeof(Sym);
		/* bound every size by the file's before allocating anything */
		if (strsec->sh_type != SHT_STRTAB || strsec->sh_size > fsize ||
		    dynsym->sh_size > fsize) {
			rc = norc_err_set(err, errlen, NORC_EINVAL, "dynamic symbols are malformed");
			goto out;
		}
		syms = norc_xcalloc(nsyms ? nsyms : 1, sizeof(Sym));
		strs = norc_xmalloc(strsec->sh_size + 1);
		if (rd(fd, syms, nsyms * sizeof(Sym), dynsym->sh_offset, fsize) != NORC_OK ||
		    rd(fd, strs, strsec->sh_size, strsec->sh_offset, fsize) != NORC_OK)
			rc = norc_err_set(err, errlen, NORC_EINVAL, "dynamic symbols are truncated");
		else
			strs[strsec->sh_size] = '\0';
		for (size_t i = 0; rc == NORC_OK && i < nsyms; i++) {
			if (syms[i].st_name >= strsec->sh_size || syms[i].st_shndx == SHN_UNDEF ||
			    strcmp(strs + syms[i].st_name, symbol) != 0)
				continue;
			uint64_t addr = syms[i].st_value;
			if (syms[i].st_size < sizeof(*out) || syms[i].st_shndx >= eh.e_shnum) {
				rc = norc_err_set(err, errlen, NORC_EINVAL,
						  "symbol %s is too small (%lu bytes) to be a plugin "
						  "descriptor", symbol, (unsigned long)syms[i].st_size);
				break;
			}
			const Shdr *sec = &sh[syms[i].st_shndx];
			if (sec->sh_type == SHT_NOBITS || addr < sec->sh_addr ||
			    addr + sizeof(*out) > sec->sh_addr + sec->sh_size) {
				rc = norc_err_set(err, errlen, NORC_EINVAL,
						  "symbol %s is not initialized data", symbol);
				break;
			}
			unsigned char raw[24];
			_Static_assert(sizeof(raw) == 24, "frozen block is 24 bytes");
			if (rd(fd, raw, sizeof(raw), sec->sh_offset + (addr - sec->sh_addr), fsize) != NORC_OK) {
				rc = norc_err_set(err, errlen, NORC_EINVAL, "symbol %s is truncated", symbol);
				break;
			}
			memcpy(&out->magic, raw + 0, 4);
			memcpy(&out->abi_major, raw + 4, 2);
			memcpy(&out->abi_minor, raw + 6, 2);
			memcpy(&out->struct_size, raw + 8, 4);
			memcpy(&out->build_sig, raw + 12, 4);
			memcpy(&out->kind, raw + 16, 4);
			memcpy(&out->flags, raw + 20, 4);
			out->sym_size = (uint64_t)syms[i].st_size;
			free(sh);
			free(syms);
			free(strs);
			close(fd);
			return NORC_OK;
		}
		if (rc == NORC_OK)
			rc = norc_err_set(err, errlen, NORC_ENOTFOUND,
					  "exports no '%s' symbol; define it with NORC_PLUGIN_DEFINE()",
					  symbol);
	}
out:
	free(sh);
	free(syms);
	free(strs);
	close(fd);
	return rc;
}
