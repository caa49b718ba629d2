CREATE TABLE `x1` (
  `id` int(10) unsigned zerofill NOT NULL,
  `a` varchar(40) CHARACTER SET latin1 COLLATE latin1_bin DEFAULT NULL,
  `b` char(3) DEFAULT NULL,
  `c` varchar(4) CHARACTER SET utf8mb3 COLLATE utf8mb3_general_ci DEFAULT NULL,
  `d` int(11) INVISIBLE DEFAULT 3,
  `e` mediumblob DEFAULT NULL,
  `f` double DEFAULT NULL,
  `g` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `h` point NOT NULL,
  `i` enum('a,b','it''s') DEFAULT 'a,b',
  `j` set('x','y\\z') DEFAULT NULL,
  `k` uuid DEFAULT uuid(),
  `l` inet6 DEFAULT NULL,
  `m` inet4 DEFAULT NULL,
  `n` blob /*M!100301 COMPRESSED*/ DEFAULT NULL,
  `o` longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin DEFAULT NULL CHECK (json_valid(`o`)),
  `p` int(11) GENERATED ALWAYS AS (`id` * 2) STORED,
  `q` timestamp(3) NOT NULL DEFAULT current_timestamp(3) ON UPDATE current_timestamp(3),
  `r` bit(5) DEFAULT b'101',
  `s` varchar(5) DEFAULT 'a''b',
  `t` text DEFAULT NULL COMMENT 'a ''q''',
  PRIMARY KEY (`id`,`g`),
  UNIQUE KEY `g` (`g`),
  UNIQUE KEY `a` (`a`),
  FULLTEXT KEY `t` (`t`)
) ENGINE=InnoDB DEFAULT CHARSET=latin1 COLLATE=latin1_swedish_ci COMMENT='x''y';
CREATE TABLE `x4` (
  `id` int(11) NOT NULL,
  `d` date NOT NULL,
  PRIMARY KEY (`id`,`d`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci
 PARTITION BY RANGE (year(`d`))
(PARTITION `p0` VALUES LESS THAN (2000) ENGINE = InnoDB,
 PARTITION `p1` VALUES LESS THAN MAXVALUE ENGINE = InnoDB);
CREATE TABLE `x2` (
  `id` int(11) DEFAULT NULL,
  `s` timestamp(6) GENERATED ALWAYS AS ROW START INVISIBLE,
  `e` timestamp(6) GENERATED ALWAYS AS ROW END INVISIBLE,
  PERIOD FOR SYSTEM_TIME (`s`, `e`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci WITH SYSTEM VERSIONING;
CREATE TABLE `x3` (
  `a` int(11) DEFAULT NULL,
  `b` int(11) DEFAULT NULL WITHOUT SYSTEM VERSIONING
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci WITH SYSTEM VERSIONING;
CREATE TABLE `we``ird tbl` (
  `col one` int(11) DEFAULT NULL,
  `列` text DEFAULT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE TABLE `sv1` (
  `id` int(11) NOT NULL,
  `x` int(11) DEFAULT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci WITH SYSTEM VERSIONING;
CREATE TABLE `sq1` (
  `next_not_cached_value` bigint(21) NOT NULL,
  `minimum_value` bigint(21) NOT NULL,
  `maximum_value` bigint(21) NOT NULL,
  `start_value` bigint(21) NOT NULL COMMENT 'start value when sequences is created or value if RESTART is used',
  `increment` bigint(21) NOT NULL COMMENT 'increment value',
  `cache_size` bigint(21) unsigned NOT NULL,
  `cycle_option` tinyint(1) unsigned NOT NULL COMMENT '0 if no cycles are allowed, 1 if the sequence should begin a new cycle when maximum_value is passed',
  `cycle_count` bigint(21) NOT NULL COMMENT 'How many cycles have been done'
) ENGINE=InnoDB SEQUENCE=1;
