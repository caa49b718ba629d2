-- Executable comments as mysqldump and mariadb-dump write them (`/*!40101 …*/`,
-- `/*!50100 …*/`, `/*!50001 …*/` views, `/*!50003 …*/` triggers, MariaDB's `/*M!100100
-- …*/`), version-gated columns the server creates and ones it skips: `/*!99999 …*/` is
-- above every version, and MariaDB also skips MySQL 5.7+ comments (`/*!50700 …*/` …
-- `/*!99999`), so `b` below is not created on MariaDB while `c` is. From mariadb-dump
-- output and Debezium's mysql-test-init-5.7.ddl / regression_test.sql.

/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;
/*!40101 SET @OLD_CHARACTER_SET_RESULTS=@@CHARACTER_SET_RESULTS */;
/*!40101 SET NAMES utf8mb4 */;
/*!40103 SET @OLD_TIME_ZONE=@@TIME_ZONE */;
/*!40103 SET TIME_ZONE='+00:00' */;
/*!40014 SET @OLD_UNIQUE_CHECKS=@@UNIQUE_CHECKS, UNIQUE_CHECKS=0 */;
/*!40014 SET @OLD_FOREIGN_KEY_CHECKS=@@FOREIGN_KEY_CHECKS, FOREIGN_KEY_CHECKS=0 */;
/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */;
/*M!100616 SET @OLD_NOTE_VERBOSITY=@@NOTE_VERBOSITY, NOTE_VERBOSITY=0 */;

DROP TABLE IF EXISTS `dumped`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8 */;
CREATE TABLE `dumped` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `name` varchar(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci NOT NULL,
  `flags` set('a','b','c') /*!40100 CHARACTER SET latin1 */ DEFAULT NULL,
  `created_at` timestamp NOT NULL DEFAULT current_timestamp(),
  PRIMARY KEY (`id`),
  KEY `name_idx` (`name`(10))
) ENGINE=InnoDB AUTO_INCREMENT=42 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci /*!50100 COMMENT='dumped table' */;
/*!40101 SET character_set_client = @saved_cs_client */;

LOCK TABLES `dumped` WRITE;
/*!40000 ALTER TABLE `dumped` DISABLE KEYS */;
INSERT INTO `dumped` VALUES (1,'first','a,b','2020-01-01 00:00:00');
/*!40000 ALTER TABLE `dumped` ENABLE KEYS */;
UNLOCK TABLES;

CREATE TABLE `versioned_col` (
  `a` INT,
  /*!50700 `b` INT, */
  /*M!100300 `c` VARCHAR(10), */
  /*!99999 `never` INT, */
  `d` INT
);

CREATE TABLE `dump_partitioned` (
  `id` int(11) NOT NULL,
  `d` date NOT NULL,
  PRIMARY KEY (`id`,`d`)
) ENGINE=InnoDB DEFAULT CHARSET=latin1
/*!50100 PARTITION BY RANGE (year(`d`))
(PARTITION p2019 VALUES LESS THAN (2020) ENGINE = InnoDB,
 PARTITION pmax VALUES LESS THAN MAXVALUE ENGINE = InnoDB) */;

/*!50001 DROP VIEW IF EXISTS `dumped_view`*/;
/*!50001 CREATE ALGORITHM=UNDEFINED */
/*!50013 DEFINER=`root`@`localhost` SQL SECURITY DEFINER */
/*!50001 VIEW `dumped_view` AS select `dumped`.`id` AS `id`,`dumped`.`name` AS `name` from `dumped` */;

CREATE TABLE dumped_log (id INT AUTO_INCREMENT PRIMARY KEY, msg VARCHAR(100));

/*!50003 SET @saved_sql_mode       = @@sql_mode */ ;
/*!50003 SET sql_mode              = 'STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION' */ ;
DELIMITER ;;
/*!50003 CREATE*/ /*!50017 DEFINER=`root`@`localhost`*/ /*!50003 TRIGGER `dumped_ai` AFTER INSERT ON `dumped` FOR EACH ROW INSERT INTO dumped_log (msg) VALUES (CONCAT('added ', NEW.id)) */;;
DELIMITER ;
/*!50003 SET sql_mode              = @saved_sql_mode */ ;

/*!50106 SET @save_time_zone= @@TIME_ZONE */ ;
DELIMITER ;;
/*!50106 CREATE*/ /*!50117 DEFINER=`root`@`localhost`*/ /*!50106 EVENT `dumped_cleanup` ON SCHEDULE EVERY 1 DAY STARTS '2030-01-01 00:00:00' ON COMPLETION NOT PRESERVE DISABLE DO DELETE FROM dumped_log WHERE id < 0 */ ;;
DELIMITER ;
/*!50106 SET TIME_ZONE= @save_time_zone */ ;

/*!50003 DROP PROCEDURE IF EXISTS `dumped_proc` */;
DELIMITER ;;
CREATE DEFINER=`root`@`localhost` PROCEDURE `dumped_proc`(IN n INT)
BEGIN
  SELECT n;
END ;;
DELIMITER ;

ALTER TABLE `dumped` /*!50100 ADD COLUMN `from_comment` INT AFTER `name` */;

ALTER TABLE `dumped` ADD COLUMN `gated` INT /*!50100 DEFAULT 5 */ /*!99999 , ADD COLUMN `not_added` INT */;

/*!50100 ALTER TABLE `dumped_log` ADD COLUMN `level` TINYINT DEFAULT 0 */;

/*M!100100 ALTER TABLE `dumped_log` ADD COLUMN `mariadb_only` VARCHAR(5) */;

/*!40103 SET TIME_ZONE=@OLD_TIME_ZONE */;
/*!40101 SET SQL_MODE=@OLD_SQL_MODE */;
/*!40014 SET FOREIGN_KEY_CHECKS=@OLD_FOREIGN_KEY_CHECKS */;
/*!40014 SET UNIQUE_CHECKS=@OLD_UNIQUE_CHECKS */;
/*!40101 SET CHARACTER_SET_CLIENT=@OLD_CHARACTER_SET_CLIENT */;
/*!40101 SET CHARACTER_SET_RESULTS=@OLD_CHARACTER_SET_RESULTS */;
/*M!100616 SET NOTE_VERBOSITY=@OLD_NOTE_VERBOSITY */;
