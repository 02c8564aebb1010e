package dev.gaffer.client;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.util.List;

/** A page of jobs, newest first; {@code nextCursor} fetches the next one (null: this was the last). */
@JsonIgnoreProperties(ignoreUnknown = true)
public record JobPage(List<JobInfo> jobs, String nextCursor) {}
