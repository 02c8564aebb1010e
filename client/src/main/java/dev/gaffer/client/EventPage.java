package dev.gaffer.client;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.util.List;

/** A page of a job's history, oldest first; ask again with {@code since = nextSince} for more. */
@JsonIgnoreProperties(ignoreUnknown = true)
public record EventPage(long jobId, List<JobEventInfo> events, long nextSince) {}
