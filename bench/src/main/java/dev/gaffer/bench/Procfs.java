package dev.gaffer.bench;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;

/** What the bench reads from /proc: CPU time, peak RSS, parents, the load average. */
final class Procfs {

    /** Clock ticks per second of /proc/<pid>/stat on Linux. */
    private static final double TICKS = 100.0;

    private Procfs() {}

    /** Fields of /proc/<pid>/stat after the command name, which may contain spaces. */
    private static String[] stat(long pid) throws IOException {
        String s = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        return s.substring(s.lastIndexOf(')') + 2).split(" ");
    }

    static long parentPid(long pid) {
        try {
            return Long.parseLong(stat(pid)[1]);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** User + system CPU seconds of a live process (its own threads), or NaN. */
    static double cpuSeconds(long pid) {
        try {
            String[] f = stat(pid);
            return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / TICKS;
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        }
    }

    /**
     * CPU seconds of the whole PostgreSQL server: the postmaster, its finished children
     * (cutime, cstime) and its live children (backends, walwriter, checkpointer, autovacuum).
     */
    static double serverCpuSeconds(long postmasterPid) {
        if (postmasterPid <= 0) {
            return Double.NaN;
        }
        double total = 0;
        try {
            String[] f = stat(postmasterPid);
            total += (Long.parseLong(f[11]) + Long.parseLong(f[12]) + Long.parseLong(f[13]) + Long.parseLong(f[14]))
                    / TICKS;
            try (DirectoryStream<Path> procs = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
                for (Path p : procs) {
                    long pid = Long.parseLong(p.getFileName().toString());
                    if (parentPid(pid) == postmasterPid) {
                        double c = cpuSeconds(pid);
                        if (!Double.isNaN(c)) {
                            total += c;
                        }
                    }
                }
            }
            return total;
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        }
    }

    /** Peak resident set size (VmHWM) in MiB, or NaN once the process is gone. */
    static double peakRssMiB(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
                }
            }
        } catch (IOException | RuntimeException e) {
            // gone
        }
        return Double.NaN;
    }

    /** The 1-minute load average. */
    static double load1() {
        try {
            return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).split(" ")[0]);
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        }
    }

    static String loadavg() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).strip();
        } catch (IOException e) {
            return "?";
        }
    }
}
