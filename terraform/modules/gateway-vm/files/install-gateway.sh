#!/bin/sh
# Installs the Causeway gateway of a VM as the systemd service causeway-gateway, around the
# files cloud-init wrote to /etc/causeway (cloud-init.yaml.tftpl). POSIX sh; running it again
# is fine. What it fetches, and only when asked: Debian's nodejs and npm packages through apt
# (--install-node), and the package given with --package through npm (which fetches its
# dependencies from the npm registry unless the tarball bundles them).
set -eu

PROG=install-gateway.sh
UNIT_NAME=causeway-gateway.service
DEFAULT_BIN=/usr/local/bin/causeway
CONFIG=/etc/causeway/gateway.yaml

usage() {
	cat <<'EOF'
Usage: install-gateway.sh [options]

Installs the Causeway gateway on this host as the systemd service causeway-gateway, with the
config cloud-init (or you) wrote to /etc/causeway/gateway.yaml:
  - checks it runs as root on a systemd host with Node.js 20 or later, installing Debian's
    nodejs and npm packages first with --install-node (Debian 13 or later has Node.js 20);
  - installs the causeway package with npm install -g, or uses the causeway on PATH;
  - creates the system user causeway and gives it what the gateway reads: the config and the
    policies (0640, group causeway), the CA key, bootstrap key and peer credentials (0600,
    owned by causeway); /var/lib/causeway (0700) is its data dir;
  - checks the config with causeway config validate, and stops if it is invalid;
  - installs /etc/systemd/system/causeway-gateway.service, reloads systemd, and enables and
    starts the service (restarting it when something changed).

Options:
  --package SPEC   what npm install -g installs: a tarball (URL or path, as npm pack
                   writes it) or a package spec of your registry.
  --install-node   apt-get install nodejs npm when Node.js 20 or later is missing.
  --no-start       enable the service but do not start it now (it starts at boot).
  --root DIR       install under DIR instead of / (images, tests): every path is prefixed
                   with DIR; no root needed; apt-get, useradd, chown and systemctl are
                   skipped; a package goes to DIR/usr/local.
  -h, --help       show this help.
EOF
}

say() { printf '%s: %s\n' "$PROG" "$*"; }
die() { printf '%s: %s\n' "$PROG" "$*" >&2; exit 1; }
usage_error() { printf '%s: %s (see --help)\n' "$PROG" "$*" >&2; exit 2; }

ROOT=
PACKAGE=
INSTALL_NODE=no
START=yes
while [ $# -gt 0 ]; do
	case $1 in
		-h | --help) usage; exit 0 ;;
		--package | --root)
			[ $# -ge 2 ] || usage_error "$1 needs a value"
			case $1 in
				--package) PACKAGE=$2 ;;
				--root) ROOT=$2 ;;
			esac
			shift 2 ;;
		--package=*) PACKAGE=${1#*=}; shift ;;
		--root=*) ROOT=${1#*=}; shift ;;
		--install-node) INSTALL_NODE=yes; shift ;;
		--no-start) START=no; shift ;;
		*) usage_error "unknown option $1" ;;
	esac
done

HERE=$(cd "$(dirname "$0")" && pwd)
UNIT_SOURCE=$HERE/$UNIT_NAME
[ -f "$UNIT_SOURCE" ] || die "$UNIT_SOURCE is missing: it comes beside $PROG"

if [ -n "$ROOT" ]; then
	[ -d "$ROOT" ] || die "--root $ROOT is not a directory"
	ROOT=$(cd "$ROOT" && pwd)
	[ "$ROOT" != / ] || ROOT=
fi
# In --root mode nothing outside DIR is touched: no packages, users, owners or systemd.
DRY=no
[ -z "$ROOT" ] || DRY=yes
skipped() { say "skipped (--root): $*"; }

if [ "$DRY" = no ]; then
	[ "$(id -u)" -eq 0 ] || die "run as root: it installs packages, creates a user and a systemd service"
	# sd_booted(3): systemd is the running init exactly when this directory exists.
	{ [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; } ||
		die "this host does not run systemd; the gateway can still be run as: causeway gateway --config $CONFIG"
fi
[ -f "$ROOT$CONFIG" ] || die "$ROOT$CONFIG is missing: cloud-init writes it (write_files) before it runs $PROG"

# --- Node.js -------------------------------------------------------------------------------

node_major() {
	command -v node >/dev/null 2>&1 || return 1
	major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null) || return 1
	case $major in '' | *[!0-9]*) return 1 ;; esac
	[ "$major" -ge 20 ]
}
if ! node_major; then
	if [ "$INSTALL_NODE" = yes ] && [ "$DRY" = no ]; then
		say "installing Node.js from Debian (apt-get install nodejs npm)"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq
		apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
		node_major || die "Debian's nodejs is older than 20 here: use a Debian 13 (trixie) or later image"
	else
		[ "$INSTALL_NODE" = no ] || skipped "apt-get install nodejs npm"
		die "the gateway needs Node.js 20 or later: apt-get install nodejs npm (Debian 13 or later), or run with --install-node"
	fi
fi

# --- the package ---------------------------------------------------------------------------

if [ -n "$PACKAGE" ]; then
	command -v npm >/dev/null 2>&1 || die "npm is not on PATH (it installs the package): apt-get install npm"
	if [ "$DRY" = yes ]; then
		say "installing $PACKAGE under $ROOT/usr/local"
		npm install --global --prefix "$ROOT/usr/local" --no-audit --no-fund "$PACKAGE" >/dev/null
		BIN=$DEFAULT_BIN
	else
		say "installing $PACKAGE"
		npm install --global --no-audit --no-fund "$PACKAGE" >/dev/null
		BIN=$(npm prefix --global)/bin/causeway
	fi
elif [ "$DRY" = yes ]; then
	# The image's own path, not wherever this host has causeway.
	BIN=$DEFAULT_BIN
elif BIN=$(command -v causeway 2>/dev/null); then
	say "causeway is installed ($BIN): no package to install"
else
	die "causeway is not installed: give the package with --package SPEC"
fi
case $BIN in
	/*) ;;
	*) die "causeway resolves to $BIN, not an absolute path" ;;
esac
case $BIN in *[!A-Za-z0-9/._+-]*) die "the path $BIN has characters a unit's ExecStart would need quoted" ;; esac

# --- the user, and what it may read --------------------------------------------------------

if [ "$DRY" = yes ]; then
	skipped "useradd causeway"
elif id causeway >/dev/null 2>&1; then
	say "user causeway exists"
else
	NOLOGIN=/usr/sbin/nologin
	[ -x "$NOLOGIN" ] || NOLOGIN=/bin/false
	useradd --system --user-group --home-dir /var/lib/causeway --no-create-home \
		--shell "$NOLOGIN" --comment "Causeway gateway" causeway
	say "created system user causeway"
fi

# set_mode MODE OWNER PATH: PATH (under ROOT) if it exists; the owner except in --root mode.
set_mode() {
	[ -e "$ROOT$3" ] || return 0
	chmod "$1" "$ROOT$3"
	[ "$DRY" = yes ] || chown "$2" "$ROOT$3"
}

mkdir -p "$ROOT/etc/causeway/policies" "$ROOT/var/lib/causeway" "$ROOT/etc/systemd/system"
set_mode 0750 root:causeway /etc/causeway
set_mode 0640 root:causeway "$CONFIG"
set_mode 0750 root:causeway /etc/causeway/policies
for f in "$ROOT"/etc/causeway/policies/*; do
	if [ -f "$f" ]; then set_mode 0640 root:causeway "${f#"$ROOT"}"; fi
done
# The CA (intermediate mode): only the key is secret.
set_mode 0750 root:causeway /etc/causeway/ca
set_mode 0644 root:root /etc/causeway/ca/tls.crt
set_mode 0644 root:root /etc/causeway/ca/ca.crt
set_mode 0600 causeway:causeway /etc/causeway/ca/tls.key
# Bootstrap key and peer credentials (federation): 0600, the gateway's own, as it expects.
set_mode 0600 causeway:causeway /etc/causeway/bootstrap.key
set_mode 0750 root:causeway /etc/causeway/peers
for f in "$ROOT"/etc/causeway/peers/*.credential; do
	if [ -f "$f" ]; then set_mode 0600 causeway:causeway "${f#"$ROOT"}"; fi
done
set_mode 0700 causeway:causeway /var/lib/causeway

# --- the config ----------------------------------------------------------------------------

# The gateway's own validator, before anything starts: a bad config stops here, named, in
# cloud-init's log, instead of in a unit restarting every 5 seconds.
VALIDATOR=$ROOT$BIN
if [ ! -x "$VALIDATOR" ] && [ "$DRY" = yes ]; then
	VALIDATOR=$(command -v causeway 2>/dev/null) || VALIDATOR=
fi
if [ -n "$VALIDATOR" ] && [ -x "$VALIDATOR" ]; then
	"$VALIDATOR" config validate "$ROOT$CONFIG" || die "$CONFIG is invalid (above): the gateway is not started"
else
	skipped "causeway config validate (no causeway under $ROOT or on PATH)"
fi

# --- the unit ------------------------------------------------------------------------------

CHANGED=no
UNIT_TARGET=$ROOT/etc/systemd/system/$UNIT_NAME
UNIT_TMP=$ROOT/etc/systemd/system/.$UNIT_NAME.in.$$
trap 'rm -f "$UNIT_TMP"' EXIT
sed "s|^ExecStart=[^ ]*|ExecStart=$BIN|" "$UNIT_SOURCE" >"$UNIT_TMP"
chmod 0644 "$UNIT_TMP"
cmp -s "$UNIT_TMP" "$UNIT_TARGET" 2>/dev/null || CHANGED=yes
# Renamed over the target, so systemd never reads half a unit.
mv -f "$UNIT_TMP" "$UNIT_TARGET"
say "unit written to /etc/systemd/system/$UNIT_NAME (ExecStart=$BIN)"

if [ "$DRY" = yes ]; then
	now=
	[ "$START" = no ] || now='--now '
	skipped "systemctl daemon-reload; systemctl enable $now$UNIT_NAME"
	exit 0
fi
systemctl daemon-reload
if [ "$START" = no ]; then
	systemctl enable "$UNIT_NAME"
	say "enabled $UNIT_NAME; not started (--no-start): systemctl start $UNIT_NAME"
	exit 0
fi
ACTIVE=no
systemctl is-active --quiet "$UNIT_NAME" && ACTIVE=yes
systemctl enable --now "$UNIT_NAME"
if [ "$ACTIVE" = yes ] && { [ "$CHANGED" = yes ] || [ -n "$PACKAGE" ]; }; then
	# It was running the previous package or unit; the config and its files may be new too.
	systemctl try-restart "$UNIT_NAME"
	say "restarted $UNIT_NAME"
fi
say "$UNIT_NAME is running: journalctl -u $UNIT_NAME; causeway status --config $CONFIG"
