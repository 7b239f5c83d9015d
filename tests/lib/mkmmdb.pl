#!/usr/bin/perl
# mkmmdb.pl - writes a small MaxMind-format database for the tests, with
# Debian's MaxMind::DB::Writer (libmaxmind-db-writer-perl).
#
#   perl tests/lib/mkmmdb.pl OUT.mmdb < spec.json
#
# spec.json: {"type": "GeoLite2-City", "networks": [[CIDR, RECORD], ...]}
# where RECORD is laid out as GeoLite2-City's (country, subdivisions, city,
# location). Documentation ranges (192.0.2.0/24, 2001:db8::/32...) are
# kept: the tests place addresses nobody uses, and send them nowhere.
use strict;
use warnings;
use JSON::PP;
use MaxMind::DB::Writer::Tree;

my $out = shift @ARGV or die "usage: mkmmdb.pl OUT.mmdb < spec.json\n";
my $spec = JSON::PP->new->utf8->decode(do { local $/; <STDIN> });
my %types = (
	country => 'map', subdivisions => ['array', 'map'], city => 'map',
	location => 'map', names => 'map', iso_code => 'utf8_string',
	geoname_id => 'uint32', latitude => 'double', longitude => 'double',
	accuracy_radius => 'uint16', en => 'utf8_string',
	'zh-CN' => 'utf8_string', de => 'utf8_string',
	# wrong types, for the tests of a database that lies
	bogus => 'uint32',
);
my $tree = MaxMind::DB::Writer::Tree->new(
	ip_version => 6,
	record_size => 28,
	database_type => $spec->{type} // 'GeoLite2-City',
	languages => ['en', 'zh-CN'],
	description => { en => 'sigil test database' },
	map_key_type_callback => sub { $types{ $_[0] } },
	remove_reserved_networks => 0,
);
for my $n (@{ $spec->{networks} }) {
	$tree->insert_network($n->[0], $n->[1]);
}
open my $fh, '>:raw', $out or die "$out: $!\n";
$tree->write_tree($fh);
close $fh or die "$out: $!\n";
