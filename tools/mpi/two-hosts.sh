#!/bin/sh
# Runs `mpirun -np 2 COMMAND…` across two "hosts": two network namespaces made here, joined by a
# veth pair with addresses of their own (10.77.K.1 and .2), Open MPI over TCP between them, the
# remote rank started through an rsh agent that runs `ip netns exec`. Both namespaces are removed
# on exit, whatever happens. Needs root (ip netns) and Open MPI.
#
#   tools/mpi/two-hosts.sh [--netem "rate 1gbit delay 0.2ms"] COMMAND ARGUMENTS…
#
# Prints `two-hosts seconds=S` (wall time of the mpirun) after the command's own output.
set -eu
netem=""
if [ "${1:-}" = "--netem" ]; then netem=$2; shift 2; fi
[ $# -gt 0 ] || { echo "usage: $0 [--netem SPEC] COMMAND ARGUMENTS..." >&2; exit 2; }

tag="syn$$"
octet=$(( $$ % 200 + 20 ))
a="${tag}a"; b="${tag}b"
host_a="10.77.$octet.1"; host_b="10.77.$octet.2"
agent=$(mktemp /tmp/synapse-rsh-agent.XXXXXX)
cleanup() {
    ip netns del "$a" 2>/dev/null || true
    ip netns del "$b" 2>/dev/null || true
    rm -f "$agent"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

ip netns add "$a"
ip netns add "$b"
ip link add "${tag}x" type veth peer name "${tag}y"
ip link set "${tag}x" netns "$a"
ip link set "${tag}y" netns "$b"
ip -n "$a" addr add "$host_a/24" dev "${tag}x"
ip -n "$b" addr add "$host_b/24" dev "${tag}y"
for ns in "$a" "$b"; do ip -n "$ns" link set lo up; done
ip -n "$a" link set "${tag}x" up
ip -n "$b" link set "${tag}y" up
if [ -n "$netem" ]; then
    # The link's shape, both ways.
    ip netns exec "$a" tc qdisc add dev "${tag}x" root netem $netem
    ip netns exec "$b" tc qdisc add dev "${tag}y" root netem $netem
fi

# Open MPI's rsh agent: `agent HOST COMMAND…` runs COMMAND in that host's namespace.
cat > "$agent" <<AGENT
#!/bin/sh
host=\$1; shift
case "\$host" in
    $host_a) ns=$a ;;
    $host_b) ns=$b ;;
    *) echo "rsh agent: unknown host \$host" >&2; exit 1 ;;
esac
exec ip netns exec "\$ns" sh -c "\$*"
AGENT
chmod +x "$agent"

start=$(date +%s.%N)
status=0
ip netns exec "$a" env OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
    mpirun --oversubscribe -np 2 --host "$host_a:1,$host_b:1" \
    --mca plm_rsh_agent "$agent" --mca btl tcp,self \
    --mca btl_tcp_if_include "10.77.$octet.0/24" --mca oob_tcp_if_include "10.77.$octet.0/24" \
    -x OMPI_ALLOW_RUN_AS_ROOT -x OMPI_ALLOW_RUN_AS_ROOT_CONFIRM -x PATH -wdir "$(pwd)" \
    "$@" || status=$?
end=$(date +%s.%N)
echo "two-hosts seconds=$(echo "$end - $start" | bc)"
exit $status
