package dev.gaffer.job;

/** A job description that the schema would refuse, with the field at fault. */
public class InvalidJobException extends IllegalArgumentException {

    private final String field;

    public InvalidJobException(String field, String problem) {
        super(field + " " + problem);
        this.field = field;
    }

    public String field() {
        return field;
    }
}
