#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# make install / make uninstall.  The Makefile passes the directories in the
# environment (PREFIX, SBINDIR, MANDIR, DATADIR, SYSCONFDIR, UNITDIR,
# UDEVRULESDIR, DKMSSRCDIR, MANIFEST, all without DESTDIR), VERSION and
# BUILD, the build tree holding the tools (this writes the DKMS dkms.conf
# and versions.env into BUILD/dkms/), and GEN, where `make man units` made
# the man pages, units and udev rule for this install's paths.
#
#   scripts/install.sh install|uninstall
#
# install writes the list of every file it put into MANIFEST (itself
# included), so that uninstall removes exactly those, whichever build tree
# (or none) is there at uninstall time; an install over an older one
# removes what the older one had and this one does not (an upgrade leaves
# no stale DKMS source behind).  Operators' files are never in it:
# SYSCONFDIR/vfio-bpf/policy.yaml is theirs, the examples go beside it
# under their own names.
set -eu

mode=${1:?usage: install.sh install|uninstall}
top=$(cd "$(dirname "$0")/.." && pwd)
d=${DESTDIR:-}
for v in VERSION PREFIX SBINDIR MANDIR DATADIR SYSCONFDIR UNITDIR UDEVRULESDIR DKMSSRCDIR MANIFEST BUILD; do
	eval "[ -n \"\${$v:-}\" ]" || { echo "install.sh: $v is not set (run make install)" >&2; exit 2; }
done
case $d in
''|/*) ;;
*) d=$(pwd)/$d ;;	# relative DESTDIR: as make was started
esac

say() { printf '  %-8s %s\n' "$1" "$2"; }

# The directories that are ours alone: removed when uninstall empties them.
own_dirs="$DKMSSRCDIR/kmod $DKMSSRCDIR/include $DKMSSRCDIR $SYSCONFDIR/vfio-bpf $DATADIR"

if [ "$mode" = uninstall ]; then
	if [ ! -f "$d$MANIFEST" ]; then
		echo "install.sh: nothing installed here ($d$MANIFEST is missing)" >&2
		exit 1
	fi
	n=0
	while IFS= read -r f; do
		case $f in /*) ;; *) continue ;; esac
		rm -f "$d$f"
		n=$((n + 1))
	done <"$d$MANIFEST"
	for dir in $own_dirs; do
		rmdir "$d$dir" 2>/dev/null || true
	done
	say UNINST "$n files from ${d:-/}"
	[ ! -e "$d$SYSCONFDIR/vfio-bpf/policy.yaml" ] ||
		say KEPT "$d$SYSCONFDIR/vfio-bpf/policy.yaml (yours)"
	exit 0
fi
[ "$mode" = install ] || { echo "install.sh: unknown mode '$mode'" >&2; exit 2; }
[ -n "${GEN:-}" ] || { echo "install.sh: GEN is not set (run make install)" >&2; exit 2; }

new=$(mktemp)
trap 'rm -f "$new"' EXIT

# put MODE SRC DEST: one file, DEST without DESTDIR, recorded.
put() {
	install -d -m 0755 "$d$(dirname "$3")"
	install -m "$1" "$2" "$d$3"
	echo "$3" >>"$new"
}

for t in vfio-bpf vfio-trace vfio_exporter; do
	[ -x "$BUILD/$t" ] || { echo "install.sh: $BUILD/$t is not built (make tools)" >&2; exit 1; }
	put 0755 "$BUILD/$t" "$SBINDIR/$t"
done

for f in "$top"/etc/*.yaml; do
	n=$(basename "$f")
	# Never an operator's policy.yaml, should the tree ever hold one.
	[ "$n" = policy.yaml ] && continue
	put 0644 "$f" "$SYSCONFDIR/vfio-bpf/$n"
done

# Units, rule and man pages as `make units man` made them (with this
# install's SBINDIR and SYSCONFDIR).
rules=$(ls "$GEN"/udev/*.rules 2>/dev/null || true)
[ -n "$rules" ] || { echo "install.sh: no $GEN/udev/*.rules (make units)" >&2; exit 1; }
for f in $rules; do put 0644 "$f" "$UDEVRULESDIR/$(basename "$f")"; done
for f in "$GEN"/systemd/*.service "$GEN"/systemd/*.socket "$GEN"/systemd/*.timer; do
	[ -f "$f" ] && put 0644 "$f" "$UNITDIR/$(basename "$f")"
done
for f in "$GEN"/man/*.[458]; do
	[ -f "$f" ] || continue
	s=${f##*.}
	put 0644 "$f" "$MANDIR/man$s/$(basename "$f")"
done

# The module's source for DKMS, laid out as in the tree (kmod/ includes
# ../include/ and reads ../versions.env).
# dkms.conf and versions.env (which kmod/Kbuild reads) at this VERSION.
mkdir -p "$BUILD/dkms"
sed "s/@VERSION@/$VERSION/" "$top/kmod/dkms.conf.in" >"$BUILD/dkms/dkms.conf"
{
	echo "# SPDX-License-Identifier: GPL-2.0"
	echo "# The version kmod/Kbuild builds into the module (written by make install)."
	echo "VFIO_BPF_VERSION=$VERSION"
} >"$BUILD/dkms/versions.env"
put 0644 "$BUILD/dkms/dkms.conf" "$DKMSSRCDIR/dkms.conf"
put 0644 "$BUILD/dkms/versions.env" "$DKMSSRCDIR/versions.env"
for f in "$top"/kmod/Kbuild "$top"/kmod/Makefile "$top"/kmod/*.c "$top"/kmod/*.h; do
	case $f in *.mod.c) continue ;; esac
	put 0644 "$f" "$DKMSSRCDIR/kmod/$(basename "$f")"
done
for f in "$top"/include/*.h; do put 0644 "$f" "$DKMSSRCDIR/include/$(basename "$f")"; done

# What an older install had and this one has not (a previous version's
# DKMS source, a unit since renamed).
if [ -f "$d$MANIFEST" ]; then
	while IFS= read -r f; do
		case $f in /*) ;; *) continue ;; esac
		[ "$f" = "$MANIFEST" ] && continue
		grep -qxF "$f" "$new" || { rm -f "$d$f"; say STALE "$d$f"; }
	done <"$d$MANIFEST"
	old_src=$(sed -n 's|^\(.*/src/vfio-pci-bpf-[^/]*\)/dkms.conf$|\1|p' "$d$MANIFEST")
	for s in $old_src; do
		[ "$s" = "$DKMSSRCDIR" ] && continue
		rmdir "$d$s/kmod" "$d$s/include" "$d$s" 2>/dev/null || true
	done
fi
echo "$MANIFEST" >>"$new"
install -d -m 0755 "$d$(dirname "$MANIFEST")"
install -m 0644 "$new" "$d$MANIFEST"
say INSTALL "$(wc -l <"$new") files into ${d:-/} (list: $d$MANIFEST)"
if [ ! -e "$d$SYSCONFDIR/vfio-bpf/policy.yaml" ]; then
	say NOTE "no $SYSCONFDIR/vfio-bpf/policy.yaml yet: start from policy.example.yaml there"
fi
