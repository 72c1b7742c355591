#!/usr/bin/perl
# Minimal AMQP 0-9-1 login probe: connect, authenticate with PLAIN, open the
# vhost, close cleanly. Uses only perl-base (Essential on Debian).
#
#   AMQP_PASSWORD=... amqp-check.pl HOST PORT VHOST USER
#
# Exit codes: 0 = vhost opened; 1 = cannot connect / protocol error / timeout;
#             3 = authentication refused; 4 = vhost access refused.
use strict;
use warnings;
use IO::Socket::INET;

my ($host, $port, $vhost, $user) = @ARGV;
die "usage: AMQP_PASSWORD=... $0 HOST PORT VHOST USER\n" unless defined $user;
my $pass = $ENV{AMQP_PASSWORD} // '';
my $stage = 'connect';

$SIG{ALRM} = sub { print STDERR "amqp-check: timeout during $stage\n"; exit 1 };
alarm 10;

my $s = IO::Socket::INET->new(PeerAddr => $host, PeerPort => $port, Proto => 'tcp', Timeout => 5)
  or do { print STDERR "amqp-check: cannot connect to $host:$port: $!\n"; exit 1 };
binmode $s;

sub read_exact {
    my ($n) = @_;
    my $buf = '';
    while (length($buf) < $n) {
        my $r = sysread($s, $buf, $n - length($buf), length($buf));
        return undef unless $r;    # EOF or error
    }
    return $buf;
}

# Returns (class, method, args) of the next method frame; skips other frames.
sub read_method {
    while (1) {
        my $hdr = read_exact(7) // return;
        my ($type, $chan, $size) = unpack('C n N', $hdr);
        my $payload = read_exact($size + 1) // return;
        next unless $type == 1;
        my ($class, $method) = unpack('n n', $payload);
        return ($class, $method, substr($payload, 4, $size - 4));
    }
}

sub send_method {
    my ($class, $method, $args) = @_;
    my $payload = pack('n n', $class, $method) . $args;
    print $s pack('C n N', 1, 0, length $payload) . $payload . "\xCE";
}

sub refused {
    my ($code, $what, $class, $method, $args) = @_;
    my $text = '';
    if (defined $class && $class == 10 && $method == 50) {
        my ($rc, $len) = unpack('n C', $args);
        $text = " ($rc " . substr($args, 3, $len) . ")";
    }
    print STDERR "amqp-check: $what$text\n";
    exit $code;
}

$stage = 'handshake';
print $s "AMQP\x00\x00\x09\x01";
my ($c, $m, $a) = read_method();
refused(1, 'no Connection.Start from server') unless defined $c && $c == 10 && $m == 10;

$stage = 'authentication';
my $caps = pack('C/a* a C', 'authentication_failure_close', 't', 1);
my $props = pack('C/a* a', 'capabilities', 'F') . pack('N/a*', $caps)
          . pack('C/a* a N/a*', 'product', 'S', 'lvsevents-stack-check');
send_method(10, 11, pack('N/a*', $props) . pack('C/a*', 'PLAIN')
                  . pack('N/a*', "\0$user\0$pass") . pack('C/a*', 'en_US'));
($c, $m, $a) = read_method();
refused(3, "authentication refused for user $user", $c, $m, $a) unless defined $c && $c == 10 && $m == 30;
my ($chmax, $frmax, $hb) = unpack('n N n', $a);
send_method(10, 31, pack('n N n', $chmax, $frmax, 0));

$stage = 'vhost open';
send_method(10, 40, pack('C/a* C/a* C', $vhost, '', 0));
($c, $m, $a) = read_method();
refused(4, "access to vhost $vhost refused for user $user", $c, $m, $a) unless defined $c && $c == 10 && $m == 41;

$stage = 'close';
send_method(10, 50, pack('n C/a* n n', 200, 'bye', 0, 0));
read_method();    # Close-Ok; ignore errors, we are done
close $s;
exit 0;
