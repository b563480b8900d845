#!/bin/sh
# capture-runtime.sh - a pass-through OCI runtime that records config.json.
#
# Use it wherever a runc binary is expected (podman --runtime, ctr run
# --runc-binary, dockerd --add-runtime). On `create` or `run` it copies the
# bundle's config.json (bundle from --bundle/-b, else the current directory)
# to $CAPTURE_DIR/<timestamp>-<pid>.json, then execs the real runtime with
# the unchanged argv.
#
# Environment:
#   CAPTURE_DIR      where to write captures (default /tmp/apus-capture)
#   CAPTURE_RUNTIME  real runtime to exec (default: runc)
# podman's conmon only passes its conmon_env_vars (containers.conf) to the
# runtime, so list CAPTURE_DIR there or rely on the default.

CAPTURE_DIR=${CAPTURE_DIR:-/tmp/apus-capture}
CAPTURE_RUNTIME=${CAPTURE_RUNTIME:-runc}

# Find the subcommand: skip global options (and the values of those that take one).
cmd=
bundle=
state=global
for arg in "$@"; do
	case $state in
	global)
		case $arg in
		--root|-root|--log|-log|--log-format|-log-format|--criu|-criu|--rootless|-rootless)
			state=globalval ;;
		-*) ;;
		*)
			cmd=$arg
			state=cmd ;;
		esac ;;
	globalval)
		state=global ;;
	cmd)
		case $arg in
		--bundle|-bundle|-b|--b)
			state=bundleval ;;
		--bundle=*|-bundle=*|-b=*|--b=*)
			bundle=${arg#*=} ;;
		esac ;;
	bundleval)
		bundle=$arg
		state=cmd ;;
	esac
done

case $cmd in
create|run)
	[ -n "$bundle" ] || bundle=$(pwd)
	if [ -f "$bundle/config.json" ]; then
		mkdir -p "$CAPTURE_DIR" 2>/dev/null
		cp "$bundle/config.json" "$CAPTURE_DIR/$(date +%Y%m%dT%H%M%S.%N)-$$.json" 2>/dev/null
	fi ;;
esac

exec "$CAPTURE_RUNTIME" "$@"
