package dev.gaffer.job;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gaffer.testing.TestDatabase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.postgresql.PGResultSetMetaData;

/** Rows become jobs the same way whether the driver sent a timestamp as text or in binary. */
class JobRowsTest {

    @RegisterExtension
    static final TestDatabase db = new TestDatabase("job_rows");

    @Test
    void timestampsReadInBinaryEqualTheDriversOwnReadingToTheMicrosecond() throws Exception {
        // Before and after PostgreSQL's epoch (2000-01-01), at 1970 and with every digit.
        String[] moments = {
            "1999-12-31 23:59:59.999999+00",
            "2000-01-01 00:00:00+00",
            "1970-01-01 00:00:00+00",
            "1969-07-20 20:17:40.000001+00",
            "2026-12-03 16:45:12.345678+00",
            "infinity",
            "-infinity"
        };
        int binaryReads = 0;
        try (Connection c = db.dataSource().getConnection();
                PreparedStatement ps = c.prepareStatement("SELECT ?::timestamptz AS t, NULL::timestamptz AS n")) {
            // The driver prepares the statement on the server from its fifth use on and then
            // receives timestamps in binary: read each moment ten times to see both forms.
            for (int i = 0; i < 10; i++) {
                for (String m : moments) {
                    ps.setString(1, m);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        OffsetDateTime expected = rs.getObject(1, OffsetDateTime.class);
                        assertThat(JobRows.instant(rs, 1)).as(m).isEqualTo(expected.toInstant());
                        assertThat(JobRows.instant(rs, 2)).isNull();
                        if (rs.getMetaData().unwrap(PGResultSetMetaData.class).getFormat(1) == 1) {
                            binaryReads++;
                        }
                    }
                }
            }
        }
        assertThat(binaryReads).as("reads in binary").isPositive();
    }

    @Test
    void aJobReadManyTimesKeepsItsTimestamps() {
        long id = db.requests().create(NewJob.of("noop", null)).job().id();
        db.fixtures()
                .exec("UPDATE jobs SET created_at = '1999-12-31 23:59:59.999999+00',"
                        + " run_at = '1969-07-20 20:17:40.000001+00' WHERE id = " + id);
        List<Job> reads = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            reads.add(db.queries().find(id).orElseThrow());
        }
        assertThat(reads).allSatisfy(j -> {
            assertThat(j.createdAt()).isEqualTo(Instant.parse("1999-12-31T23:59:59.999999Z"));
            assertThat(j.runAt()).isEqualTo(Instant.parse("1969-07-20T20:17:40.000001Z"));
            assertThat(j.updatedAt()).isEqualTo(reads.getFirst().updatedAt());
        });
    }
}
